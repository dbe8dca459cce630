"""HistoricalLocations: where a Thing was from when. OGC 18-088 (§8.2.3, §10.2) asks the
service to make one whenever a Thing's Locations change; every write that links Locations to
Things calls these in its own transaction."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import UTC, datetime

from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from bylab.sensors.models import HistoricalLocation, HistoricalLocationLocation, ThingLocation


def thing_location_ids(session: Session, thing_id: int) -> set[int]:
    """The Locations a Thing is linked to now."""
    return set(session.scalars(select(ThingLocation.location_id).where(
        ThingLocation.thing_id == thing_id)))


def history_record(session: Session, thing_id: int, location_ids: Iterable[int],
                   time: datetime | None = None) -> int:
    """A HistoricalLocation of the Thing at these Locations from ``time`` (now); its id."""
    history = HistoricalLocation(thing_id=thing_id, time=time or datetime.now(UTC))
    session.add(history)
    session.flush()
    session.add_all(HistoricalLocationLocation(history_id=history.id, location_id=location_id)
                    for location_id in dict.fromkeys(location_ids))
    session.flush()
    return history.id


def history_after_change(session: Session, thing_id: int, before: set[int]) -> None:
    """Record the Thing's Locations when they differ from ``before`` (and it has some)."""
    session.flush()
    now = thing_location_ids(session, thing_id)
    if now and now != before:
        history_record(session, thing_id, sorted(now))


def history_forget_location(session: Session, location_id: int) -> None:
    """Before a Location is deleted: the HistoricalLocations naming only it go with it."""
    history_ids = set(session.scalars(select(HistoricalLocationLocation.history_id).where(
        HistoricalLocationLocation.location_id == location_id)))
    session.execute(delete(HistoricalLocationLocation).where(
        HistoricalLocationLocation.location_id == location_id))
    still_located = set(session.scalars(select(HistoricalLocationLocation.history_id).where(
        HistoricalLocationLocation.history_id.in_(history_ids))))
    session.execute(delete(HistoricalLocation).where(
        HistoricalLocation.id.in_(history_ids - still_located)))
