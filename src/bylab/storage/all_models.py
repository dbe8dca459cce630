"""Imports every capability's models so the shared metadata (and Alembic) sees all tables."""

from bylab.auth import models as auth_models
from bylab.catalog import models as catalog_models
from bylab.connectors import models as connectors_models  # noqa: F401
from bylab.dashboard import models as dashboard_models  # noqa: F401
from bylab.indicators import models as indicator_models  # noqa: F401
from bylab.mobility import models as mobility_models  # noqa: F401
from bylab.places import models as places_models
from bylab.registry import models as registry_models  # noqa: F401
from bylab.scenarios import models as scenarios_models  # noqa: F401
from bylab.sensors import models as sensors_models  # noqa: F401
from bylab.storage.base import Base

__all__ = ["Base", "auth_models", "catalog_models", "places_models"]
