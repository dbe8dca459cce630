"""The SensorThings data model: Things, Locations and their history, Sensors,
ObservedProperties, Datastreams, FeaturesOfInterest (small, relational, in the metadata
database) and the dead-letter store.

Observations are not here: they live in the columnar observation store (``store.py``).
Ids are integers, as SensorThings clients expect (``Things(1)``)."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from typing import Any

from sqlalchemy import Float, ForeignKey, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from bylab.storage.base import Base, JsonColumn, utcnow

GEOJSON = "application/geo+json"


class SensorVisibility(StrEnum):
    PUBLIC = "public"
    PRIVATE = "private"  # members of the owning organisation only


class Thing(Base):
    """A station or device, owned by an organisation; it decides who may see its data.

    A Thing a harvest source brought (``source_id``) is as visible as the source is now: the
    access clause reads the source's visibility, so a change of it reaches every Thing,
    Datastream and Observation harvested before, at once."""

    __tablename__ = "sensor_things"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    name: Mapped[str] = mapped_column(String(200), index=True)
    description: Mapped[str] = mapped_column(Text, default="")
    properties: Mapped[dict[str, Any]] = mapped_column(JsonColumn, default=dict)
    organisation_id: Mapped[str | None] = mapped_column(
        ForeignKey("organisations.id", ondelete="CASCADE"), index=True, nullable=True)
    visibility: Mapped[str] = mapped_column(String(20), default=SensorVisibility.PUBLIC)
    place_id: Mapped[str | None] = mapped_column(String(64), nullable=True)
    source_id: Mapped[str | None] = mapped_column(
        ForeignKey("harvest_sources.id", ondelete="SET NULL"), index=True, nullable=True)


class Location(Base):
    __tablename__ = "sensor_locations"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    name: Mapped[str] = mapped_column(String(200))
    description: Mapped[str] = mapped_column(Text, default="")
    encoding_type: Mapped[str] = mapped_column(String(100), default=GEOJSON)
    location: Mapped[dict[str, Any]] = mapped_column(JsonColumn, default=dict)
    properties: Mapped[dict[str, Any]] = mapped_column(JsonColumn, default=dict)
    # Who made it (through the SensorThings API): its members see it while nothing links it
    # to a Thing they may see, and only its editors change it.
    organisation_id: Mapped[str | None] = mapped_column(
        ForeignKey("organisations.id", ondelete="SET NULL"), index=True, nullable=True)


class ThingLocation(Base):
    __tablename__ = "sensor_thing_locations"

    thing_id: Mapped[int] = mapped_column(
        ForeignKey("sensor_things.id", ondelete="CASCADE"), primary_key=True)
    location_id: Mapped[int] = mapped_column(
        ForeignKey("sensor_locations.id", ondelete="CASCADE"), primary_key=True)


class HistoricalLocation(Base):
    """Where a Thing was from ``time`` on (OGC 18-088 §8.2.3): made by every write that
    changes a Thing's Locations, as visible as its Thing."""

    __tablename__ = "sensor_history"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    thing_id: Mapped[int] = mapped_column(
        ForeignKey("sensor_things.id", ondelete="CASCADE"), index=True)
    time: Mapped[datetime] = mapped_column(default=utcnow)


class HistoricalLocationLocation(Base):
    """The Locations a HistoricalLocation names."""

    __tablename__ = "sensor_history_locations"

    history_id: Mapped[int] = mapped_column(
        ForeignKey("sensor_history.id", ondelete="CASCADE"), primary_key=True)
    location_id: Mapped[int] = mapped_column(
        ForeignKey("sensor_locations.id", ondelete="CASCADE"), primary_key=True, index=True)


class Sensor(Base):
    """The instrument or procedure that produced the observations."""

    __tablename__ = "sensor_sensors"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    name: Mapped[str] = mapped_column(String(200), index=True)
    description: Mapped[str] = mapped_column(Text, default="")
    encoding_type: Mapped[str] = mapped_column(String(100), default="text/plain")
    # SensorThings calls it "metadata", a name SQLAlchemy models reserve.
    sensor_metadata: Mapped[str] = mapped_column("metadata", Text, default="")
    properties: Mapped[dict[str, Any]] = mapped_column(JsonColumn, default=dict)
    # Who made it (through the SensorThings API): its members see it while nothing links it
    # to a Thing they may see, and only its editors change it.
    organisation_id: Mapped[str | None] = mapped_column(
        ForeignKey("organisations.id", ondelete="SET NULL"), index=True, nullable=True)


class ObservedProperty(Base):
    __tablename__ = "sensor_observed_properties"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    name: Mapped[str] = mapped_column(String(200), index=True)
    definition: Mapped[str] = mapped_column(String(500), default="")
    description: Mapped[str] = mapped_column(Text, default="")
    properties: Mapped[dict[str, Any]] = mapped_column(JsonColumn, default=dict)
    # Who made it (through the SensorThings API): its members see it while nothing links it
    # to a Thing they may see, and only its editors change it.
    organisation_id: Mapped[str | None] = mapped_column(
        ForeignKey("organisations.id", ondelete="SET NULL"), index=True, nullable=True)


class FeatureOfInterest(Base):
    __tablename__ = "sensor_features"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    name: Mapped[str] = mapped_column(String(200))
    description: Mapped[str] = mapped_column(Text, default="")
    encoding_type: Mapped[str] = mapped_column(String(100), default=GEOJSON)
    feature: Mapped[dict[str, Any]] = mapped_column(JsonColumn, default=dict)
    properties: Mapped[dict[str, Any]] = mapped_column(JsonColumn, default=dict)
    # Who made it (through the SensorThings API): its members see it while nothing links it
    # to a Thing they may see, and only its editors change it.
    organisation_id: Mapped[str | None] = mapped_column(
        ForeignKey("organisations.id", ondelete="SET NULL"), index=True, nullable=True)


class Datastream(Base):
    """One series: a Thing's Sensor measuring an ObservedProperty in one unit.

    ``key`` names it for imports and MQTT payloads (``Valand/pm25``). The phenomenon time span
    and the latest result are kept up to date by every write, for listings and pages."""

    __tablename__ = "sensor_datastreams"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    key: Mapped[str] = mapped_column(String(200), unique=True)
    name: Mapped[str] = mapped_column(String(200))
    description: Mapped[str] = mapped_column(Text, default="")
    observation_type: Mapped[str] = mapped_column(
        String(200),
        default="http://www.opengis.net/def/observationType/OGC-OM/2.0/OM_Measurement")
    unit_of_measurement: Mapped[dict[str, Any]] = mapped_column(JsonColumn, default=dict)
    thing_id: Mapped[int] = mapped_column(
        ForeignKey("sensor_things.id", ondelete="CASCADE"), index=True)
    sensor_id: Mapped[int] = mapped_column(ForeignKey("sensor_sensors.id"), index=True)
    observed_property_id: Mapped[int] = mapped_column(
        ForeignKey("sensor_observed_properties.id"), index=True)
    feature_id: Mapped[int | None] = mapped_column(
        ForeignKey("sensor_features.id"), nullable=True)  # default FeatureOfInterest
    properties: Mapped[dict[str, Any]] = mapped_column(JsonColumn, default=dict)
    phenomenon_start: Mapped[datetime | None] = mapped_column(nullable=True)
    phenomenon_end: Mapped[datetime | None] = mapped_column(nullable=True)
    latest_result: Mapped[float | None] = mapped_column(Float, nullable=True)


class DeadLetter(Base):
    """An observation that could not be stored, kept with the reason so it can be replayed."""

    __tablename__ = "sensor_dead_letters"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    source: Mapped[str] = mapped_column(String(300))  # MQTT topic or file name
    payload: Mapped[str] = mapped_column(Text)
    reason: Mapped[str] = mapped_column(Text)
    received_at: Mapped[datetime] = mapped_column(default=utcnow, index=True)
    replayed_at: Mapped[datetime | None] = mapped_column(nullable=True)
