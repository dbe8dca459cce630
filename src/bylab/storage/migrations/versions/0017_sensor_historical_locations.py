"""sensors: HistoricalLocations, where a Thing was from when (OGC SensorThings 18-088 §8.2.3);
each Thing with Locations before gets one, dated now (its earlier moves were not kept)

Revision ID: 0017
Revises: 0016
Create Date: 2026-11-23 17:00:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0017"
down_revision = "0016"
branch_labels = None
depends_on = None

HISTORY = "sensor_history"
HISTORY_LINKS = "sensor_history_locations"


def upgrade() -> None:
    op.create_table(
        HISTORY,
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("thing_id", sa.Integer(), nullable=False),
        sa.Column("time", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["thing_id"], ["sensor_things.id"],
                                name=op.f(f"fk_{HISTORY}_thing_id_sensor_things"),
                                ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id", name=op.f(f"pk_{HISTORY}")),
    )
    op.create_index(op.f(f"ix_{HISTORY}_thing_id"), HISTORY, ["thing_id"], unique=False)
    op.create_table(
        HISTORY_LINKS,
        sa.Column("history_id", sa.Integer(), nullable=False),
        sa.Column("location_id", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(["history_id"], [f"{HISTORY}.id"],
                                name=op.f(f"fk_{HISTORY_LINKS}_history_id_{HISTORY}"),
                                ondelete="CASCADE"),
        sa.ForeignKeyConstraint(["location_id"], ["sensor_locations.id"],
                                name=op.f(f"fk_{HISTORY_LINKS}_location_id_sensor_locations"),
                                ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("history_id", "location_id",
                                name=op.f(f"pk_{HISTORY_LINKS}")),
    )
    op.create_index(op.f(f"ix_{HISTORY_LINKS}_location_id"), HISTORY_LINKS, ["location_id"],
                    unique=False)
    # Things located before: one HistoricalLocation each, naming their Locations of now.
    op.execute(f"""
        INSERT INTO {HISTORY} (thing_id, time)
        SELECT DISTINCT thing_id, CURRENT_TIMESTAMP FROM sensor_thing_locations""")
    op.execute(f"""
        INSERT INTO {HISTORY_LINKS} (history_id, location_id)
        SELECT history.id, link.location_id FROM {HISTORY} AS history
        JOIN sensor_thing_locations AS link ON link.thing_id = history.thing_id""")


def downgrade() -> None:
    op.drop_index(op.f(f"ix_{HISTORY_LINKS}_location_id"), table_name=HISTORY_LINKS)
    op.drop_table(HISTORY_LINKS)
    op.drop_index(op.f(f"ix_{HISTORY}_thing_id"), table_name=HISTORY)
    op.drop_table(HISTORY)
