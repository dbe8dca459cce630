"""Connectors to live and official data: PxWeb / JSON-stat statistics (``jsonstat``,
``pxweb``), harvested into catalogue datasets (``harvest``) and the `bylab harvest` CLI."""
