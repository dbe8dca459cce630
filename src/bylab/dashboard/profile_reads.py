"""What a city profile needs from storage, read at once: the place, its region peers, every
stored value and missing record of the place and every computed value of its peers (without
provenance), their names and the targets that apply. Coverage, the comparison with the region
and the target status are then computed from these rows by the same functions that
``indicator_coverage``, ``indicator_compare`` and ``target_status`` use, so a profile shows
exactly what they return; only the reads differ (a handful of queries instead of one round of
reads, each loading provenance JSON, per function).

The access rule is the indicators' (``only_readable``): a reader sees a row only if they may
see every dataset that fed it.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

import orjson
from sqlalchemy import Text, cast, or_, select
from sqlalchemy.orm import Session

from bylab.core import Context
from bylab.errors import InvalidInput
from bylab.indicators.actions import (
    Coverage,
    ValueRow,
    coverage_of,
    find_place,
    only_readable,
    place_names,
    value_rows,
)
from bylab.indicators.compare import (
    YEARS_BEFORE,
    Comparison,
    PeerKind,
    comparison_of,
    kpis_held,
    peer_group,
)
from bylab.indicators.models import IndicatorTarget, IndicatorValue, ValueStatus
from bylab.indicators.targets import TargetStatus, applies_to, statuses_of
from bylab.places.models import Place

COMPUTED = ValueStatus.COMPUTED.value  # read once: an enum's .value is a property call

@dataclass(frozen=True)
class StoredRow:
    """A stored value or missing record without its provenance."""

    kpi_code: str
    place_id: str
    period: str
    status: str
    value: float | None
    unit: str
    reason: str
    computed_at: datetime
    dataset_ids: list[str]


@dataclass
class ProfileData:
    """A place's indicators as its profile shows them, for the reader."""

    place: Place
    coverage: Coverage
    values: list[ValueRow]  # the place's computed values by KPI and period
    comparison: Comparison | None  # with the region; None without a parent or values
    targets: list[TargetStatus]


@dataclass(frozen=True)
class _Peers:
    label: str
    place_ids: set[str]


def profile_data(ctx: Context, place_id: str) -> ProfileData:
    """The coverage, values, region comparison and target status of a place, from the rows
    the reader may see (see the module docstring)."""
    with ctx.db.session() as session:
        place = find_place(session, place_id)
        peers = _region_peers(session, ctx, place)
        rows = _readable_rows(session, ctx, place.id, peers.place_ids if peers else set())
        names = place_names(session, {place.id} | (peers.place_ids if peers else set()))
        targets = list(session.scalars(
            select(IndicatorTarget).where(applies_to(place)).order_by(
                IndicatorTarget.kpi_code, IndicatorTarget.target_year, IndicatorTarget.id)))
        session.expunge_all()
    own = [row for row in rows if row.place_id == place.id]
    computed = [row for row in rows if row.status == COMPUTED]
    return ProfileData(
        place, coverage_of(place, own),
        value_rows([row for row in own if row.status == COMPUTED], names),
        _comparison(place, peers, computed, names), statuses_of(targets, place.id, computed))


def _region_peers(session: Session, ctx: Context, place: Place) -> _Peers | None:
    if place.parent_id is None:
        return None
    label, place_ids = peer_group(session, ctx, PeerKind.REGION, place.id, None, None)
    return _Peers(label, place_ids)


def _readable_rows(session: Session, ctx: Context, place_id: str,
                   peer_ids: set[str]) -> list[StoredRow]:
    """Every stored row of the place, and the computed values of its peers, that the reader
    may see, by KPI, place and period."""
    table = IndicatorValue
    statement = select(table.kpi_code, table.place_id, table.period, table.status,
                       table.value, table.unit, table.reason, table.computed_at,
                       cast(table.dataset_ids, Text)).where(
        table.place_id.in_(peer_ids | {place_id}),
        or_(table.status == COMPUTED, table.place_id == place_id))
    dataset_ids = _JsonLists()
    rows = (StoredRow(*row[:-1], dataset_ids.of(row[-1]))
            for row in session.execute(statement))
    return sorted(only_readable(session, ctx, rows),
                  key=lambda row: (row.kpi_code, row.place_id, row.period))


class _JsonLists:
    """JSON lists decoded once per distinct text: a few datasets feed hundreds of rows."""

    def __init__(self) -> None:
        self._decoded: dict[str, list[str]] = {}

    def of(self, text: str | None) -> list[str]:
        if not text:
            return []
        if text not in self._decoded:
            self._decoded[text] = orjson.loads(text)
        return self._decoded[text]


def _comparison(place: Place, peers: _Peers | None, computed: list[StoredRow],
                names: dict[str, str]) -> Comparison | None:
    """The comparison with the region, as ``indicator_compare(ctx, "region", place)``."""
    if peers is None:
        return None
    codes = kpis_held([row for row in computed if row.place_id == place.id])
    comparison = Comparison(place.id, PeerKind.REGION.value, peers.label,
                            sorted(peers.place_ids), YEARS_BEFORE)
    try:
        return comparison_of(comparison, codes, computed, names, None)
    except InvalidInput:
        return None
