"""catalogue revision: a counter that changes with every write that can change what a
catalogue read returns, so each server process can keep read results until it moves

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-22 21:40:00

One row (id 1) in ``catalog_revision``. Database triggers bump it on every insert, update
and delete of the tables catalogue reads depend on, inside the writing transaction: every
write path (web, CLI in another process, bulk loads, raw SQL) moves it, and a reader sees the
new number exactly when it can see the new rows. SQLite: one row-level trigger per table and
operation. PostgreSQL: one statement-level trigger per table calling one function.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None

REVISION_TABLE = "catalog_revision"  # bylab.catalog.models.CatalogRevision
WATCHED_TABLES = ("datasets", "dataset_versions", "dataset_shares", "organisations",
                  "network_memberships", "memberships")
OPERATIONS = ("insert", "update", "delete")
BUMP = f"UPDATE {REVISION_TABLE} SET revision = revision + 1 WHERE id = 1"
POSTGRES_FUNCTION = "bump_catalog_revision"


def _is_sqlite() -> bool:
    return op.get_bind().dialect.name == "sqlite"


def _trigger_name(table: str, operation: str = "write") -> str:
    return f"{table}_{operation}_bumps_catalog_revision"


def _sqlite_triggers() -> list[str]:
    return [f"CREATE TRIGGER {_trigger_name(table, operation)} AFTER {operation.upper()} "
            f"ON {table} BEGIN {BUMP}; END"
            for table in WATCHED_TABLES for operation in OPERATIONS]


def _postgres_triggers() -> list[str]:
    function = (f"CREATE FUNCTION {POSTGRES_FUNCTION}() RETURNS trigger LANGUAGE plpgsql AS "
                f"$$ BEGIN {BUMP}; RETURN NULL; END $$")
    return [function] + [
        f"CREATE TRIGGER {_trigger_name(table)} AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE "
        f"ON {table} FOR EACH STATEMENT EXECUTE FUNCTION {POSTGRES_FUNCTION}()"
        for table in WATCHED_TABLES]


def upgrade() -> None:
    op.create_table(
        REVISION_TABLE,
        sa.Column("id", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("revision", sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_catalog_revision")),
    )
    op.execute(f"INSERT INTO {REVISION_TABLE} (id, revision) VALUES (1, 1)")
    for statement in _sqlite_triggers() if _is_sqlite() else _postgres_triggers():
        op.execute(statement)


def downgrade() -> None:
    if _is_sqlite():
        for table in WATCHED_TABLES:
            for operation in OPERATIONS:
                op.execute(f"DROP TRIGGER {_trigger_name(table, operation)}")
    else:
        for table in WATCHED_TABLES:
            op.execute(f"DROP TRIGGER {_trigger_name(table)} ON {table}")
        op.execute(f"DROP FUNCTION {POSTGRES_FUNCTION}()")
    op.drop_table(REVISION_TABLE)
