"""Imports every capability's models so the shared metadata (and Alembic) sees all tables."""

from bylab.auth import models as auth_models
from bylab.catalog import models as catalog_models
from bylab.indicators import models as indicator_models  # noqa: F401
from bylab.places import models as places_models
from bylab.registry import models as registry_models  # noqa: F401
from bylab.storage.base import Base

__all__ = ["Base", "auth_models", "catalog_models", "places_models"]
