"""The migrations build exactly the schema the models declare, on both backends."""

from __future__ import annotations

from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext

from bylab.core import Bylab
from bylab.storage.all_models import Base
from bylab.storage.database import include_object


def test_models_and_migrations_agree(bylab: Bylab) -> None:
    with bylab.db.engine.connect() as connection:
        context = MigrationContext.configure(
            connection, opts={"include_object": include_object, "compare_type": True})
        differences = compare_metadata(context, Base.metadata)
    assert differences == []


def test_upgrade_is_idempotent(bylab: Bylab) -> None:
    bylab.setup()  # a second start on a migrated database changes nothing and does not fail
    with bylab.db.engine.connect() as connection:
        assert MigrationContext.configure(connection).get_current_revision() is not None
