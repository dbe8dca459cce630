"""sensors: Things, Sensors and ObservedProperties may share a name, as OGC SensorThings
18-088 allows (its conformance suite repeats names in deep inserts); the name stays indexed

Revision ID: 0018
Revises: 0017
Create Date: 2026-11-23 18:00:00
"""

from __future__ import annotations

from alembic import op

revision = "0018"
down_revision = "0017"
branch_labels = None
depends_on = None

NAMED = ("sensor_things", "sensor_sensors", "sensor_observed_properties")


def upgrade() -> None:
    for table in NAMED:
        with op.batch_alter_table(table, schema=None) as batch_op:
            batch_op.drop_constraint(batch_op.f(f"uq_{table}_name"), type_="unique")
            batch_op.create_index(batch_op.f(f"ix_{table}_name"), ["name"], unique=False)


def downgrade() -> None:
    for table in NAMED:
        # A name held by several keeps its lowest id; the others get theirs appended, so the
        # unique constraint can come back without losing a row.
        op.execute(f"""
            UPDATE {table} SET name = substr(name, 1, 185) || ' #' || CAST(id AS TEXT)
            WHERE EXISTS (SELECT 1 FROM {table} AS other
                          WHERE other.name = {table}.name AND other.id < {table}.id)""")
        with op.batch_alter_table(table, schema=None) as batch_op:
            batch_op.drop_index(batch_op.f(f"ix_{table}_name"))
            batch_op.create_unique_constraint(batch_op.f(f"uq_{table}_name"), ["name"])
