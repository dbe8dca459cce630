"""bylab: an open platform for municipalities working together on smart, sustainable cities."""

__version__ = "0.1.0"
__all__ = ["__version__"]
