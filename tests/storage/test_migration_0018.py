"""Migration 0018 on a database holding sensors, on both backends: names stop being unique and
stay indexed; going back keeps every row, appending its id to a name held before."""

from __future__ import annotations

import pytest
from alembic import command
from sqlalchemy import inspect, text
from sqlalchemy.exc import IntegrityError

from bylab.core import Bylab
from bylab.storage.database import alembic_config, migration_connection

NAMED = ("sensor_things", "sensor_sensors", "sensor_observed_properties")
SENSORS_AT_0017 = """
    INSERT INTO sensor_things (id, name, description, properties, visibility)
        VALUES (1, 'Valand', '', '{}', 'public'), (2, 'Torget', '', '{}', 'public');
    INSERT INTO sensor_sensors (id, name, description, encoding_type, metadata, properties)
        VALUES (1, 'Monitor', '', 'text/plain', '', '{}');
    INSERT INTO sensor_observed_properties (id, name, definition, description, properties)
        VALUES (1, 'PM2.5', '', '', '{}');
    INSERT INTO sensor_datastreams (id, key, name, description, observation_type,
                                    unit_of_measurement, thing_id, sensor_id,
                                    observed_property_id, properties)
        VALUES (1, 'Valand/pm25', 'PM2.5', '', 'OM_Measurement', '{}', 1, 1, 1, '{}')"""
NAMESAKES = """
    INSERT INTO sensor_things (id, name, description, properties, visibility)
        VALUES (3, 'Valand', '', '{}', 'public');
    INSERT INTO sensor_sensors (id, name, description, encoding_type, metadata, properties)
        VALUES (2, 'Monitor', '', 'text/plain', '', '{}');
    INSERT INTO sensor_observed_properties (id, name, definition, description, properties)
        VALUES (2, 'PM2.5', '', '', '{}')"""


def _migrate(bylab: Bylab, step: str, revision: str) -> None:
    config = alembic_config(bylab.db.engine.url.render_as_string(hide_password=False))
    with migration_connection(bylab.db.engine) as connection:
        config.attributes["connection"] = connection
        getattr(command, step)(config, revision)


def _run(bylab: Bylab, statements: str) -> None:
    with bylab.db.engine.begin() as connection:
        for statement in statements.split(";"):
            connection.execute(text(statement))


def _names(bylab: Bylab) -> dict[str, list[tuple[int, str]]]:
    with bylab.db.engine.connect() as connection:
        return {table: [tuple(row) for row in connection.execute(
            text(f"SELECT id, name FROM {table} ORDER BY id"))] for table in NAMED}


def _name_keys(bylab: Bylab) -> dict[str, tuple[list[str], list[str]]]:
    """Per table: the unique constraints and the plain indexes over the name column."""
    inspector = inspect(bylab.db.engine)
    return {table: ([item["name"] for item in inspector.get_unique_constraints(table)
                     if item["column_names"] == ["name"]],
                    [item["name"] for item in inspector.get_indexes(table)
                     if item["column_names"] == ["name"] and not item["unique"]])
            for table in NAMED}


def test_names_repeat_after_the_upgrade_and_the_downgrade_keeps_every_row(bylab: Bylab) -> None:
    _migrate(bylab, "downgrade", "0017")
    assert _name_keys(bylab)["sensor_things"][0] == ["uq_sensor_things_name"]
    _run(bylab, SENSORS_AT_0017)

    _migrate(bylab, "upgrade", "0018")
    assert _name_keys(bylab) == {table: ([], [f"ix_{table}_name"]) for table in NAMED}
    _run(bylab, NAMESAKES)
    assert _names(bylab) == {
        "sensor_things": [(1, "Valand"), (2, "Torget"), (3, "Valand")],
        "sensor_sensors": [(1, "Monitor"), (2, "Monitor")],
        "sensor_observed_properties": [(1, "PM2.5"), (2, "PM2.5")]}
    with bylab.db.engine.connect() as connection:
        assert connection.execute(text(
            "SELECT key, thing_id, sensor_id, observed_property_id FROM sensor_datastreams"
        )).all() == [("Valand/pm25", 1, 1, 1)]

    _migrate(bylab, "downgrade", "0017")
    assert _names(bylab) == {
        "sensor_things": [(1, "Valand"), (2, "Torget"), (3, "Valand #3")],
        "sensor_sensors": [(1, "Monitor"), (2, "Monitor #2")],
        "sensor_observed_properties": [(1, "PM2.5"), (2, "PM2.5 #2")]}
    assert _name_keys(bylab) == {table: ([f"uq_{table}_name"], []) for table in NAMED}
    with pytest.raises(IntegrityError):
        _run(bylab, "INSERT INTO sensor_things (name, description, properties, visibility) "
                    "VALUES ('Torget', '', '{}', 'public')")
    _migrate(bylab, "upgrade", "head")
