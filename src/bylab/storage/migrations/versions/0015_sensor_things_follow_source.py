"""sensors: Things follow the visibility of the harvest source that brought them; Locations,
Sensors, ObservedProperties and FeaturesOfInterest know the organisation that made them

Revision ID: 0015
Revises: 0014
Create Date: 2026-11-23 14:00:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0015"
down_revision = "0014"
branch_labels = None
depends_on = None

OWNED = ("sensor_locations", "sensor_sensors", "sensor_observed_properties", "sensor_features")


def upgrade() -> None:
    with op.batch_alter_table("sensor_things", schema=None) as batch_op:
        batch_op.add_column(sa.Column("source_id", sa.String(length=36), nullable=True))
        batch_op.create_index(batch_op.f("ix_sensor_things_source_id"), ["source_id"],
                              unique=False)
        batch_op.create_foreign_key(
            batch_op.f("fk_sensor_things_source_id_harvest_sources"), "harvest_sources",
            ["source_id"], ["id"], ondelete="SET NULL")
    for table in OWNED:
        with op.batch_alter_table(table, schema=None) as batch_op:
            batch_op.add_column(sa.Column("organisation_id", sa.String(length=36),
                                          nullable=True))
            batch_op.create_index(batch_op.f(f"ix_{table}_organisation_id"),
                                  ["organisation_id"], unique=False)
            batch_op.create_foreign_key(
                batch_op.f(f"fk_{table}_organisation_id_organisations"), "organisations",
                ["organisation_id"], ["id"], ondelete="SET NULL")
    # Things harvested before: named "<prefix>/…" by a SensorThings source of their owner.
    op.execute("""
        UPDATE sensor_things SET source_id = (
            SELECT source.id FROM harvest_sources AS source
            WHERE source.kind = 'sta' AND source.organisation_id = sensor_things.organisation_id
              AND substr(sensor_things.name, 1, length(source.dataset_name) + 1)
                  = source.dataset_name || '/'
            ORDER BY length(source.dataset_name) DESC LIMIT 1)
        WHERE source_id IS NULL""")
    # A Location or a Thing's default FeatureOfInterest made before is its Thing's.
    op.execute("""
        UPDATE sensor_locations SET organisation_id = (
            SELECT min(thing.organisation_id) FROM sensor_thing_locations AS link
            JOIN sensor_things AS thing ON thing.id = link.thing_id
            WHERE link.location_id = sensor_locations.id)
        WHERE organisation_id IS NULL""")
    op.execute("""
        UPDATE sensor_features SET organisation_id = (
            SELECT min(thing.organisation_id) FROM sensor_datastreams AS datastream
            JOIN sensor_things AS thing ON thing.id = datastream.thing_id
            WHERE datastream.feature_id = sensor_features.id)
        WHERE organisation_id IS NULL""")


def downgrade() -> None:
    for table in OWNED:
        with op.batch_alter_table(table, schema=None) as batch_op:
            batch_op.drop_constraint(batch_op.f(f"fk_{table}_organisation_id_organisations"),
                                     type_="foreignkey")
            batch_op.drop_index(batch_op.f(f"ix_{table}_organisation_id"))
            batch_op.drop_column("organisation_id")
    with op.batch_alter_table("sensor_things", schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f("fk_sensor_things_source_id_harvest_sources"),
                                 type_="foreignkey")
        batch_op.drop_index(batch_op.f("ix_sensor_things_source_id"))
        batch_op.drop_column("source_id")
