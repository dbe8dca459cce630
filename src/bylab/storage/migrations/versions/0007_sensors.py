"""sensors: things, locations, datastreams, sensors, observed properties (observations live in Parquet)

Revision ID: 0007
Revises: 0006
Create Date: 2026-11-23 09:00:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None

_JSON = sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql")
_WHEN = sa.DateTime(timezone=True)


def _id() -> sa.Column:
    return sa.Column("id", sa.Integer(), autoincrement=True, nullable=False)


def _fk(table: str, column: str, target: str, ondelete: str | None = None
        ) -> sa.ForeignKeyConstraint:
    return sa.ForeignKeyConstraint([column], [f"{target}.id"],
                                   name=op.f(f"fk_{table}_{column}_{target}"), ondelete=ondelete)


def _pk(table: str, *columns: str) -> sa.PrimaryKeyConstraint:
    return sa.PrimaryKeyConstraint(*(columns or ("id",)), name=op.f(f"pk_{table}"))


def upgrade() -> None:
    op.create_table(
        "sensor_things", _id(),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("description", sa.Text(), nullable=False),
        sa.Column("properties", _JSON, nullable=False),
        sa.Column("organisation_id", sa.String(length=36), nullable=True),
        sa.Column("visibility", sa.String(length=20), nullable=False),
        sa.Column("place_id", sa.String(length=64), nullable=True),
        _fk("sensor_things", "organisation_id", "organisations", "CASCADE"),
        _pk("sensor_things"),
        sa.UniqueConstraint("name", name=op.f("uq_sensor_things_name")),
    )
    op.create_index(op.f("ix_sensor_things_organisation_id"), "sensor_things",
                    ["organisation_id"])
    op.create_table(
        "sensor_locations", _id(),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("description", sa.Text(), nullable=False),
        sa.Column("encoding_type", sa.String(length=100), nullable=False),
        sa.Column("location", _JSON, nullable=False),
        sa.Column("properties", _JSON, nullable=False),
        _pk("sensor_locations"),
    )
    op.create_table(
        "sensor_thing_locations",
        sa.Column("thing_id", sa.Integer(), nullable=False),
        sa.Column("location_id", sa.Integer(), nullable=False),
        _fk("sensor_thing_locations", "thing_id", "sensor_things", "CASCADE"),
        _fk("sensor_thing_locations", "location_id", "sensor_locations", "CASCADE"),
        _pk("sensor_thing_locations", "thing_id", "location_id"),
    )
    op.create_table(
        "sensor_sensors", _id(),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("description", sa.Text(), nullable=False),
        sa.Column("encoding_type", sa.String(length=100), nullable=False),
        sa.Column("metadata", sa.Text(), nullable=False),
        sa.Column("properties", _JSON, nullable=False),
        _pk("sensor_sensors"),
        sa.UniqueConstraint("name", name=op.f("uq_sensor_sensors_name")),
    )
    op.create_table(
        "sensor_observed_properties", _id(),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("definition", sa.String(length=500), nullable=False),
        sa.Column("description", sa.Text(), nullable=False),
        sa.Column("properties", _JSON, nullable=False),
        _pk("sensor_observed_properties"),
        sa.UniqueConstraint("name", name=op.f("uq_sensor_observed_properties_name")),
    )
    op.create_table(
        "sensor_features", _id(),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("description", sa.Text(), nullable=False),
        sa.Column("encoding_type", sa.String(length=100), nullable=False),
        sa.Column("feature", _JSON, nullable=False),
        sa.Column("properties", _JSON, nullable=False),
        _pk("sensor_features"),
    )
    op.create_table(
        "sensor_datastreams", _id(),
        sa.Column("key", sa.String(length=200), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("description", sa.Text(), nullable=False),
        sa.Column("observation_type", sa.String(length=200), nullable=False),
        sa.Column("unit_of_measurement", _JSON, nullable=False),
        sa.Column("thing_id", sa.Integer(), nullable=False),
        sa.Column("sensor_id", sa.Integer(), nullable=False),
        sa.Column("observed_property_id", sa.Integer(), nullable=False),
        sa.Column("feature_id", sa.Integer(), nullable=True),
        sa.Column("properties", _JSON, nullable=False),
        sa.Column("phenomenon_start", _WHEN, nullable=True),
        sa.Column("phenomenon_end", _WHEN, nullable=True),
        sa.Column("latest_result", sa.Float(), nullable=True),
        _fk("sensor_datastreams", "thing_id", "sensor_things", "CASCADE"),
        _fk("sensor_datastreams", "sensor_id", "sensor_sensors"),
        _fk("sensor_datastreams", "observed_property_id", "sensor_observed_properties"),
        _fk("sensor_datastreams", "feature_id", "sensor_features"),
        _pk("sensor_datastreams"),
        sa.UniqueConstraint("key", name=op.f("uq_sensor_datastreams_key")),
    )
    for column in ("thing_id", "sensor_id", "observed_property_id"):
        op.create_index(op.f(f"ix_sensor_datastreams_{column}"), "sensor_datastreams", [column])
    op.create_table(
        "sensor_dead_letters", _id(),
        sa.Column("source", sa.String(length=300), nullable=False),
        sa.Column("payload", sa.Text(), nullable=False),
        sa.Column("reason", sa.Text(), nullable=False),
        sa.Column("received_at", _WHEN, nullable=False),
        sa.Column("replayed_at", _WHEN, nullable=True),
        _pk("sensor_dead_letters"),
    )
    op.create_index(op.f("ix_sensor_dead_letters_received_at"), "sensor_dead_letters",
                    ["received_at"])


def downgrade() -> None:
    op.drop_index(op.f("ix_sensor_dead_letters_received_at"), table_name="sensor_dead_letters")
    op.drop_table("sensor_dead_letters")
    for column in ("thing_id", "sensor_id", "observed_property_id"):
        op.drop_index(op.f(f"ix_sensor_datastreams_{column}"), table_name="sensor_datastreams")
    op.drop_table("sensor_datastreams")
    for table in ("sensor_features", "sensor_observed_properties", "sensor_sensors",
                  "sensor_thing_locations", "sensor_locations"):
        op.drop_table(table)
    op.drop_index(op.f("ix_sensor_things_organisation_id"), table_name="sensor_things")
    op.drop_table("sensor_things")
