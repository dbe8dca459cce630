"""Importing the official change tables of Statistics Norway's classification service KLASS
(classification 131, municipalities; 104, counties).

The tables come from
``https://data.ssb.no/api/klass/v1/classifications/131/changes?from=...&to=...`` as JSON
(``{"codeChanges": [{"oldCode", "oldName", "oldShortName", "newCode", "newName",
"newShortName", "changeOccurred"}]}``) or CSV (the same columns, quoted, separated by ``;`` by
default or by ``csvSeparator``, in ISO-8859-1 unless UTF-8 was asked for). A row without an
old code says the new code started to exist; one without a new code, that the old code ceased.

KLASS changes are authoritative: they replace derived changes for the same pair of places.
Codes bylab does not know become places without a boundary.
"""

from __future__ import annotations

import csv
import io
import json
from collections import defaultdict
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Any

from sqlalchemy import delete, insert, select
from sqlalchemy.orm import Session

from bylab.core import Context
from bylab.errors import InvalidInput, NotAuthorized
from bylab.places.boundaries import from_geojson, overlap_shares
from bylab.places.models import ChangeKind, Place, PlaceChange, PlaceLevel
from bylab.places.records import KLASS_SOURCE, ChangeRecord, PlaceRecord, place_id_for

REQUIRED_COLUMNS = ("oldCode", "newCode", "changeOccurred")
LEVEL_BY_CODE_LENGTH = {2: (PlaceLevel.COUNTY, "fylkesnummer"),
                        4: (PlaceLevel.MUNICIPALITY, "kommunenummer")}


@dataclass(frozen=True)
class KlassChange:
    """One row of a KLASS change table (``row`` counts from 1, the header excluded)."""

    old_code: str | None
    old_name: str
    new_code: str | None
    new_name: str
    occurred: date
    row: int


@dataclass
class KlassImportReport:
    rows: int = 0
    places_created: int = 0
    changes_recorded: int = 0
    derived_replaced: int = 0

    def summary(self) -> str:
        return (f"{self.rows} KLASS rows: {self.changes_recorded} changes recorded "
                f"({self.derived_replaced} derived ones replaced), "
                f"{self.places_created} places created")


def places_import_klass(ctx: Context, path: Path) -> KlassImportReport:
    """Import a KLASS change table (JSON or CSV) for Norwegian municipalities or counties."""
    if not ctx.actor.is_sysadmin:
        raise NotAuthorized("only a system administrator may import KLASS changes")
    rows = read_klass_changes(path)
    report = KlassImportReport(rows=len(rows))
    with ctx.db.session() as session:
        report.places_created = _ensure_places(session, rows, path.name)
        changes = _changes_from(session, rows)
        report.derived_replaced = _replace_changes(session, changes)
        report.changes_recorded = len(changes)
    return report


def read_klass_changes(path: Path) -> list[KlassChange]:
    """The rows of a KLASS change table file; InvalidInput (with file and row) if malformed."""
    if not path.is_file():
        raise InvalidInput("no such file", file=str(path))
    raw = path.read_bytes()
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError:
        text = raw.decode("iso-8859-1")  # KLASS's default CSV charset
    is_json = text.lstrip().startswith("{")
    records = _json_records(text, path) if is_json else _csv_records(text, path)
    return [_klass_change(record, number, path) for number, record in enumerate(records, 1)]


def _json_records(text: str, path: Path) -> list[dict[str, Any]]:
    try:
        document = json.loads(text)
    except json.JSONDecodeError as error:
        raise InvalidInput("not valid JSON: {problem}", file=path.name,
                           row=error.lineno, problem=error.msg) from None
    records = document.get("codeChanges") if isinstance(document, dict) else None
    if not isinstance(records, list):
        raise InvalidInput("expected a KLASS change list with 'codeChanges'", file=path.name,
                           field="codeChanges")
    return records


def _csv_records(text: str, path: Path) -> list[dict[str, Any]]:
    header = text.split("\n", 1)[0]
    separator = ";" if header.count(";") > header.count(",") else ","
    reader = csv.DictReader(io.StringIO(text), delimiter=separator)
    missing = [column for column in REQUIRED_COLUMNS if column not in (reader.fieldnames or [])]
    if missing:
        raise InvalidInput("not a KLASS change table: missing column(s) {columns}",
                           file=path.name, row=0, field=missing[0], columns=", ".join(missing))
    return list(reader)


def _klass_change(record: Any, number: int, path: Path) -> KlassChange:
    if not isinstance(record, dict):
        raise InvalidInput("expected an object", file=path.name, row=number)
    old_code = _code(record.get("oldCode"), number, "oldCode", path)
    new_code = _code(record.get("newCode"), number, "newCode", path)
    if old_code is None and new_code is None:
        raise InvalidInput("neither oldCode nor newCode", file=path.name, row=number)
    try:
        occurred = date.fromisoformat(str(record.get("changeOccurred") or "").strip())
    except ValueError:
        raise InvalidInput("not a date (YYYY-MM-DD)", file=path.name, row=number,
                           field="changeOccurred") from None
    return KlassChange(
        old_code=old_code, old_name=str(record.get("oldName") or old_code or "").strip(),
        new_code=new_code, new_name=str(record.get("newName") or new_code or "").strip(),
        occurred=occurred, row=number,
    )


def _code(value: Any, number: int, field: str, path: Path) -> str | None:
    code = str(value).strip() if value is not None else ""
    if not code:
        return None
    if not code.isdigit() or len(code) not in LEVEL_BY_CODE_LENGTH:
        raise InvalidInput("'{code}' is not a county (2 digits) or municipality (4 digits) code",
                           file=path.name, row=number, field=field, code=code)
    return code


def _ensure_places(session: Session, rows: list[KlassChange], file_name: str) -> int:
    """Create places for unknown codes; fill in validity dates the change table states."""
    new_records: dict[str, PlaceRecord] = {}
    for row in sorted(rows, key=lambda change: change.occurred):
        if row.old_code and row.old_code != row.new_code:
            place = _known_or_new(session, new_records, row.old_code, row.old_name, file_name)
            _set_if_empty(place, "valid_to", row.occurred)
        if row.new_code and row.new_code != row.old_code:
            place = _known_or_new(session, new_records, row.new_code, row.new_name, file_name)
            _set_if_empty(place, "valid_from", row.occurred)
    if new_records:
        session.execute(insert(Place), [record.as_row() for record in new_records.values()])
    return len(new_records)


def _known_or_new(
    session: Session, new_records: dict[str, PlaceRecord], code: str, name: str, file_name: str
) -> Place | PlaceRecord:
    place_id = place_id_for("NO", code)
    known = session.get(Place, place_id) or new_records.get(place_id)
    if known is not None:
        return known
    level, scheme = LEVEL_BY_CODE_LENGTH[len(code)]
    parent_id = "NO" if level == PlaceLevel.COUNTY else place_id_for("NO", code[:2])
    if session.get(Place, parent_id) is None and parent_id not in new_records:
        parent_id = None
    record = PlaceRecord(
        id=place_id, country="NO", level=level, code=code, code_scheme=scheme, name=name,
        names={"no": name}, parent_id=parent_id,
        lau_code=code if level == PlaceLevel.MUNICIPALITY else None,
        source=f"klass: {file_name}"[:300],
    )
    new_records[place_id] = record
    return record


def _set_if_empty(place: Place | PlaceRecord, attribute: str, value: date) -> None:
    if getattr(place, attribute) is None:
        setattr(place, attribute, value)


def _changes_from(session: Session, rows: list[KlassChange]) -> list[ChangeRecord]:
    pairs = [row for row in rows if row.old_code and row.new_code]
    successors: dict[str, set[str]] = defaultdict(set)
    predecessors: dict[str, set[str]] = defaultdict(set)
    for row in pairs:
        if row.old_code != row.new_code:
            successors[row.old_code].add(row.new_code)  # type: ignore[index,arg-type]
            predecessors[row.new_code].add(row.old_code)  # type: ignore[index,arg-type]
    changes, seen = [], set()
    for row in pairs:
        assert row.old_code and row.new_code
        pair = (row.old_code, row.new_code, row.occurred)
        if pair in seen or (row.old_code == row.new_code and row.old_name == row.new_name):
            continue
        seen.add(pair)
        kind = _kind(row, len(successors[row.old_code]), len(predecessors[row.new_code]))
        share = _area_share(session, row.old_code, row.new_code, successors[row.old_code], kind)
        changes.append(ChangeRecord(
            from_id=place_id_for("NO", row.old_code), to_id=place_id_for("NO", row.new_code),
            kind=kind, effective=row.occurred, source=KLASS_SOURCE, area_share=share,
            note=f"KLASS: {row.old_code} {row.old_name} -> {row.new_code} {row.new_name}",
        ))
    return changes


def _kind(row: KlassChange, successor_count: int, predecessor_count: int) -> ChangeKind:
    if row.old_code == row.new_code:
        return ChangeKind.RENAMED
    if successor_count > 1:
        return ChangeKind.BOUNDARY if predecessor_count > 1 else ChangeKind.SPLIT
    return ChangeKind.MERGED if predecessor_count > 1 else ChangeKind.RENUMBERED


def _area_share(
    session: Session, old_code: str, new_code: str, successors: set[str], kind: ChangeKind
) -> float | None:
    """All of the area for a renumbering or a merger; for a split, the overlap of the stored
    boundaries when both sides have one (KLASS itself states no areas)."""
    if kind in {ChangeKind.RENUMBERED, ChangeKind.MERGED, ChangeKind.RENAMED}:
        return 1.0
    wanted = [place_id_for("NO", code) for code in {old_code, *successors}]
    boundaries: dict[str, str | None] = {
        place_id: text for place_id, text in session.execute(
            select(Place.id, Place.boundary_geojson).where(Place.id.in_(wanted))
        )
    }
    old_boundary = boundaries.pop(place_id_for("NO", old_code), None)
    if old_boundary is None or any(text is None for text in boundaries.values()):
        return None
    targets = {place_id: from_geojson(text) for place_id, text in boundaries.items() if text}
    shares = overlap_shares(from_geojson(old_boundary), targets, 0.0)
    total = sum(shares.values())
    new_id = place_id_for("NO", new_code)
    return round(shares[new_id] / total, 4) if total and new_id in shares else None


def _replace_changes(session: Session, changes: list[ChangeRecord]) -> int:
    """Store the KLASS changes, replacing any change (derived or an earlier import) for the
    same pair; returns how many derived changes were replaced."""
    replaced = 0
    for change in changes:
        same_pair = (PlaceChange.from_place_id == change.from_id) & (
            PlaceChange.to_place_id == change.to_id)
        replaced += len(session.scalars(
            select(PlaceChange.id).where(same_pair, PlaceChange.source != KLASS_SOURCE)
        ).all())
        session.execute(delete(PlaceChange).where(same_pair))
    if changes:
        session.execute(insert(PlaceChange), [change.as_row() for change in changes])
    return replaced
