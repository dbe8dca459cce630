"""Loading the boundaries bundled with bylab: Norway (2020 and 2024 divisions, with the changes
between them), Sweden and Poland. Loading again updates the same rows."""

from __future__ import annotations

import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from sqlalchemy import delete, insert, select, update
from sqlalchemy.orm import Session

from bylab.core import Context
from bylab.errors import NotAuthorized
from bylab.places.models import Place, PlaceChange
from bylab.places.norway import norway_divisions
from bylab.places.poland import poland_places
from bylab.places.records import DERIVED_SOURCE, KLASS_SOURCE, ChangeRecord, PlaceRecord
from bylab.places.sweden import sweden_places

DEMO_DATA_DIR = Path(__file__).resolve().parents[1] / "demo" / "data"
Progress = Callable[[str], None]


@dataclass
class LoadReport:
    """What a load did: rows created and updated, changes derived, rows per country and level."""

    created: int = 0
    updated: int = 0
    changes_derived: int = 0
    changes_left_to_klass: int = 0
    places_by_kind: dict[str, int] = field(default_factory=dict)  # "NO municipality" -> rows
    seconds: float = 0.0

    def summary(self) -> str:
        by_kind = sorted(self.places_by_kind.items())
        counts = ", ".join(f"{kind}: {count}" for kind, count in by_kind)
        return (f"{self.created} places created, {self.updated} updated, "
                f"{self.changes_derived} changes derived in {self.seconds:.1f} s ({counts})")


def places_load_bundled(ctx: Context, progress: Progress | None = None) -> LoadReport:
    """Load (or reload) the bundled boundaries of Norway, Sweden and Poland, with derived
    Norwegian changes 2020 -> 2024. Official KLASS changes already imported are kept."""
    if not ctx.actor.is_sysadmin:
        raise NotAuthorized("only a system administrator may load places")
    started = time.perf_counter()
    say = progress or (lambda _message: None)
    boundaries_dir = DEMO_DATA_DIR / "boundaries"
    say("reading Norwegian boundaries (2020 and 2024) and deriving changes")
    norway = norway_divisions(boundaries_dir)
    say("reading Swedish boundaries")
    places = norway.places + sweden_places(boundaries_dir, DEMO_DATA_DIR / "statistics")
    say("reading Polish boundaries")
    places += poland_places(boundaries_dir)
    say(f"storing {len(places)} places")
    report = LoadReport(places_by_kind=dict(Counter(f"{p.country} {p.level}" for p in places)))
    with ctx.db.session() as session:
        report.created, report.updated = store_places(session, places)
        say(f"storing {len(norway.changes)} derived changes")
        report.changes_derived, report.changes_left_to_klass = _store_derived_changes(
            session, norway.changes
        )
    report.seconds = time.perf_counter() - started
    say(report.summary())
    return report


def store_places(session: Session, places: list[PlaceRecord]) -> tuple[int, int]:
    """Insert new places and update known ones in bulk; returns (created, updated)."""
    rows = [place.as_row() for place in places]
    known = set(session.scalars(select(Place.id).where(Place.id.in_([r["id"] for r in rows]))))
    new_rows = [row for row in rows if row["id"] not in known]
    known_rows = [row for row in rows if row["id"] in known]
    if new_rows:
        session.execute(insert(Place), new_rows)
    if known_rows:
        session.execute(update(Place), known_rows)
    return len(new_rows), len(known_rows)


def _store_derived_changes(session: Session, changes: list[ChangeRecord]) -> tuple[int, int]:
    """Replace the derived changes; a pair KLASS has stated officially is not derived again."""
    session.execute(delete(PlaceChange).where(PlaceChange.source == DERIVED_SOURCE))
    official_pairs = {
        (from_id, to_id) for from_id, to_id in session.execute(
            select(PlaceChange.from_place_id, PlaceChange.to_place_id)
            .where(PlaceChange.source == KLASS_SOURCE)
        )
    }
    derived = [change for change in changes
               if (change.from_id, change.to_id) not in official_pairs]
    if derived:
        session.execute(insert(PlaceChange), [change.as_row() for change in derived])
    return len(derived), len(changes) - len(derived)
