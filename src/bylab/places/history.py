"""A place's history (predecessors and successors, transitively) and the crosswalk that maps a
place valid at one date to the place(s) valid at another."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from typing import NamedTuple

from sqlalchemy import select
from sqlalchemy.orm import Session

from bylab.core import Context
from bylab.places.models import Place, PlaceChange
from bylab.places.queries import place_get

MAX_STEPS = 20  # far more than any real chain of changes; guards against cycles in bad data


@dataclass(frozen=True)
class HistoryStep:
    """One change on the way to (or from) the place; ``depth`` 1 touches the place itself."""

    from_place: Place
    to_place: Place
    kind: str
    effective: date
    area_share: float | None
    source: str
    note: str
    depth: int


@dataclass
class PlaceHistory:
    place: Place
    predecessors: list[HistoryStep] = field(default_factory=list)
    successors: list[HistoryStep] = field(default_factory=list)


class CrosswalkMatch(NamedTuple):
    """A place valid at the target date and the share of the given place's area it covers
    (None where unknown). ``split`` is true when the area is divided among several places."""

    place: Place
    share: float | None
    split: bool


def place_history(ctx: Context, place_id: str) -> PlaceHistory:
    """Every known change leading to the place (predecessors) and from it (successors),
    followed transitively, oldest first."""
    with ctx.db.session() as session:
        history = PlaceHistory(place_get(session, place_id))
        history.predecessors = _walk(session, place_id, backwards=True)
        history.successors = _walk(session, place_id, backwards=False)
    history.predecessors.sort(key=lambda step: (step.effective, -step.depth))
    history.successors.sort(key=lambda step: (step.effective, step.depth))
    return history


def _walk(session: Session, place_id: str, backwards: bool) -> list[HistoryStep]:
    steps, seen, frontier = [], {place_id}, [place_id]
    for depth in range(1, MAX_STEPS + 1):
        next_frontier = []
        for current in frontier:
            for change in _changes_touching(session, current, backwards):
                steps.append(_step(session, change, depth))
                other = change.from_place_id if backwards else change.to_place_id
                if other not in seen:
                    seen.add(other)
                    next_frontier.append(other)
        if not next_frontier:
            break
        frontier = next_frontier
    return steps


def _changes_touching(session: Session, place_id: str, backwards: bool) -> list[PlaceChange]:
    column = PlaceChange.to_place_id if backwards else PlaceChange.from_place_id
    changes = session.scalars(select(PlaceChange).where(column == place_id))
    # A rename keeps the code (from == to): listed once, as a successor, and never walked.
    return [change for change in changes
            if change.from_place_id != change.to_place_id or not backwards]


def _step(session: Session, change: PlaceChange, depth: int) -> HistoryStep:
    return HistoryStep(
        from_place=place_get(session, change.from_place_id),
        to_place=place_get(session, change.to_place_id),
        kind=change.kind,
        effective=change.effective,
        area_share=change.area_share,
        source=change.source,
        note=change.note,
        depth=depth,
    )


def is_valid_on(place: Place, day: date) -> bool:
    starts_ok = place.valid_from is None or place.valid_from <= day
    ends_ok = place.valid_to is None or day < place.valid_to
    return starts_ok and ends_ok


def place_crosswalk(ctx: Context, place_id: str, to_date: date) -> list[CrosswalkMatch]:
    """The place(s) valid on ``to_date`` that cover the given place, with area shares.

    Forward in time a merger maps many places to one (share 1.0 each) and a split maps one
    place to several (shares of its area, flagged ``split``); backward, a split result maps
    to its one predecessor and a merged place to several. Chains are followed transitively
    and shares multiplied. An empty list means no known place covers it on that date."""
    with ctx.db.session() as session:
        start = place_get(session, place_id)
        if is_valid_on(start, to_date):
            return [CrosswalkMatch(start, 1.0, False)]
        backwards = start.valid_from is not None and to_date < start.valid_from
        return _crosswalk(session, start, to_date, backwards)


@dataclass
class _Reach:
    share: float | None
    split: bool


def _crosswalk(
    session: Session, start: Place, to_date: date, backwards: bool
) -> list[CrosswalkMatch]:
    frontier = {start.id: _Reach(1.0, False)}
    found: dict[str, _Reach] = {}
    for _ in range(MAX_STEPS):
        next_frontier: dict[str, _Reach] = {}
        for current_id, reach in frontier.items():
            steps = _steps_towards(session, current_id, to_date, backwards)
            for target_id, step_share in steps.items():
                combined = _Reach(_times(reach.share, step_share), reach.split or len(steps) > 1)
                target = place_get(session, target_id)
                bucket = found if is_valid_on(target, to_date) else next_frontier
                _add(bucket, target_id, combined)
        if not next_frontier:
            break
        frontier = next_frontier
    matches = [CrosswalkMatch(place_get(session, place_id), reach.share, reach.split)
               for place_id, reach in found.items()]
    matches.sort(key=lambda match: -(match.share or 0.0))
    return matches


def _steps_towards(
    session: Session, place_id: str, to_date: date, backwards: bool
) -> dict[str, float | None]:
    """The next places in time's direction, with the share of ``place_id``'s area each gets."""
    if backwards:
        changes = [change for change in _changes_touching(session, place_id, True)
                   if change.effective > to_date]
        return _predecessor_shares(session, place_id, changes)
    changes = [change for change in _changes_touching(session, place_id, False)
               if change.effective <= to_date and change.from_place_id != change.to_place_id]
    if len(changes) == 1:
        return {changes[0].to_place_id: changes[0].area_share or 1.0}
    return {change.to_place_id: change.area_share for change in changes}


def _predecessor_shares(
    session: Session, place_id: str, changes: list[PlaceChange]
) -> dict[str, float | None]:
    """Backward: a single predecessor holds all of the place; several share it by area."""
    if len(changes) == 1:
        return {changes[0].from_place_id: 1.0}
    place_km2 = place_get(session, place_id).area_km2
    shares: dict[str, float | None] = {}
    for change in changes:
        predecessor_km2 = place_get(session, change.from_place_id).area_km2
        handed_over = _times(predecessor_km2, change.area_share or 1.0)
        shares[change.from_place_id] = (
            round(handed_over / place_km2, 4) if handed_over and place_km2 else None
        )
    return shares


def _times(first: float | None, second: float | None) -> float | None:
    return None if first is None or second is None else round(first * second, 4)


def _add(bucket: dict[str, _Reach], place_id: str, reach: _Reach) -> None:
    if place_id not in bucket:
        bucket[place_id] = reach
        return
    known = bucket[place_id]
    total = None if known.share is None or reach.share is None else known.share + reach.share
    bucket[place_id] = _Reach(total, known.split or reach.split)
