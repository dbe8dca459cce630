"""A corrected value for one cell of a statistics table: the user has the right figure (from
the statistics office) for a cell the table holds as a malformed value, and stores the table
again with it.

The table is fetched again and the corrected cell put in its place, tidied like every other
cell (codes, labels, period, unit) and marked ``corrected`` in its ``status``; the version's
note says which cell, the value, by whom and from where. The correction is kept on its dead
letter (``payload["corrected"]``), and the source's earlier corrections are put in again
wherever the table still holds no number for their cell (a number the office publishes later
wins). A value that is not a finite number, a letter that is not a cell of the table, or a
missing note is refused naming the field, before anything is stored."""

from __future__ import annotations

import dataclasses
import math
from typing import Any

import pyarrow as pa
from sqlalchemy import select

from bylab.catalog.ingest import ProgressCallback
from bylab.catalog.models import Visibility
from bylab.connectors.harvest import HarvestReport, HarvestTarget, harvest_parsed
from bylab.connectors.jsonstat import Cell, ParsedTable, RejectedCell, tidy_table
from bylab.connectors.models import HarvestDeadLetter, HarvestRun, HarvestSource
from bylab.connectors.table_source import check_dataset_owner, keep_visibility, table_fetch
from bylab.core import Context
from bylab.errors import InvalidInput

__all__ = ["CORRECTED_STATUS", "CellCorrected", "CellCorrection", "cell_correct",
           "corrected_number", "table_harvest", "with_corrected_cell"]

CORRECTED_STATUS = "corrected"  # the status of a cell whose value a user supplied
NOTE_MAX_CHARS = 500


@dataclasses.dataclass(frozen=True)
class CellCorrection:
    """A checked correction: the cell (category code per dimension id), its number, where
    the number comes from and who supplied it."""

    codes: dict[str, str]
    value: int | float
    note: str
    actor: str

    def describe(self, location: str) -> str:
        return f"{location} corrected to {self.value} by {self.actor}: {self.note}"

    def record(self) -> dict[str, Any]:
        """What the dead letter keeps, to put the value in again on the next correction."""
        return {"value": self.value, "note": self.note, "by": self.actor}


@dataclasses.dataclass(frozen=True)
class CellCorrected:
    """A stored correction: the version (None when the table equals the latest), the note
    saying what was corrected, and what its dead letter keeps."""

    version: int | None
    change_note: str
    record: dict[str, Any]


def corrected_number(text: str) -> int | float:
    """The corrected value as a number ("11", "5.3", "-2e3"); anything else is refused."""
    stripped, shown = text.strip(), repr(text[:40])
    try:
        number = int(stripped) if stripped.removeprefix("-").isdigit() else float(stripped)
    except ValueError:
        if "," in stripped:
            raise InvalidInput("the corrected value must be a number, not {value} (use a point "
                               "as the decimal mark)", field="value", value=shown) from None
        raise InvalidInput("the corrected value must be a number, not {value}", field="value",
                           value=shown) from None
    if not math.isfinite(number):
        raise InvalidInput("the corrected value must be a finite number, not {value}",
                           field="value", value=shown)
    return number


def _correction(letter: HarvestDeadLetter, value: str, note: str | None, actor: str
                ) -> CellCorrection:
    codes = letter.payload.get("codes")
    if not isinstance(codes, dict) or not codes:
        raise InvalidInput("dead letter '{letter}' is not a table cell", field="letter",
                           letter=letter.id)
    number = corrected_number(value)
    note = (note or "").strip()
    if not note:
        raise InvalidInput("say where the corrected value comes from (e.g. the statistics "
                           "office's answer)", field="note")
    if len(note) > NOTE_MAX_CHARS:
        raise InvalidInput("at most {limit} characters", field="note", limit=NOTE_MAX_CHARS)
    return CellCorrection({str(key): str(code) for key, code in codes.items()}, number, note,
                          actor)


def cell_correct(ctx: Context, source: HarvestSource, letter: HarvestDeadLetter, value: str,
                 note: str | None) -> CellCorrected:
    """Fetch the source's table again, put the corrected value in ``letter``'s cell (and the
    source's earlier corrections in theirs) and store the table as the next version. Raises
    before storing anything when the value, the note or the cell is wrong, or the fetch
    fails."""
    correction = _correction(letter, value, note, ctx.actor.username or "system")
    report, change_note = table_harvest(ctx, source, correction, letter.location)
    return CellCorrected(report.version, change_note, correction.record())


def table_harvest(ctx: Context, source: HarvestSource, correction: CellCorrection | None = None,
                  location: str = "", progress: ProgressCallback | None = None
                  ) -> tuple[HarvestReport, str]:
    """Harvest the source's table again with ``correction`` (at ``location``) and the
    source's earlier corrections whose cells the table still rejects; returns the report and
    the version's change note. A replay without a new value harvests this way too, so that
    it keeps the corrections."""
    check_dataset_owner(ctx, source)
    parsed, source_label, country = table_fetch(source)
    corrected = with_corrected_cell(parsed, correction) if correction else parsed
    kept = 0
    for earlier in _earlier_corrections(ctx, source, correction.codes if correction else {}):
        if any(cell.codes == earlier.codes for cell in corrected.rejected):
            corrected, kept = with_corrected_cell(corrected, earlier), kept + 1
    change_note = "; ".join(filter(None, (
        correction.describe(location) if correction else "",
        f"{kept} earlier correction(s) kept" if kept else "")))
    target = HarvestTarget(dataset_name=source.dataset_name,
                           organisation=source.organisation_id, title=source.title or None,
                           visibility=Visibility(source.visibility),
                           licence_id=source.licence_id)
    report = harvest_parsed(ctx, corrected, target, country, source_label, progress,
                            expected_variables=source.known_variables, change_note=change_note)
    keep_visibility(ctx, source)
    return report, change_note


def _earlier_corrections(ctx: Context, source: HarvestSource, codes: dict[str, str]
                         ) -> list[CellCorrection]:
    """The source's stored corrections, the latest per cell, except for the cell ``codes``."""
    with ctx.db.session() as session:
        letters = session.scalars(
            select(HarvestDeadLetter).join(HarvestRun, HarvestRun.id == HarvestDeadLetter.run_id)
            .where(HarvestRun.source_id == source.id, HarvestDeadLetter.replayed_at.is_not(None))
            .order_by(HarvestDeadLetter.replayed_at))
        latest = {_cell_key(letter.payload["codes"]): letter.payload for letter in letters
                  if isinstance(letter.payload.get("corrected"), dict)}
    return [CellCorrection(dict(payload["codes"]), payload["corrected"]["value"],
                           payload["corrected"]["note"], payload["corrected"]["by"])
            for key, payload in latest.items() if key != _cell_key(codes)]


def _cell_key(codes: dict[str, str]) -> tuple[tuple[str, str], ...]:
    return tuple(sorted(codes.items()))


def with_corrected_cell(parsed: ParsedTable, correction: CellCorrection) -> ParsedTable:
    """``parsed`` with the rejected cell at ``correction.codes`` holding the corrected value,
    in its place in cube order; the cell must be one the table rejects."""
    rejected = _rejected_cell(parsed, correction.codes)
    row = _tidy_row(parsed, correction)
    before = sum(1 for cell in parsed.rejected if cell.position < rejected.position)
    at = rejected.position - before
    table, row = _same_value_type(parsed.table, row)
    combined = pa.concat_tables([table.slice(0, at), row, table.slice(at)])
    return dataclasses.replace(parsed, table=combined.combine_chunks(), rejected=[
        cell for cell in parsed.rejected if cell is not rejected])


def _rejected_cell(parsed: ParsedTable, codes: dict[str, str]) -> RejectedCell:
    found = next((cell for cell in parsed.rejected if cell.codes == codes), None)
    if found is not None:
        return found
    cell = ", ".join(f"{dimension}={code}" for dimension, code in codes.items())
    if _positions(parsed, codes) is not None and len(parsed.dimensions) == len(codes):
        raise InvalidInput("the table now holds a value for cell ({cell}): replay the dead "
                           "letter without a corrected value", field="letter", cell=cell)
    raise InvalidInput("the table has no cell ({cell}) any more", field="letter", cell=cell)


def _positions(parsed: ParsedTable, codes: dict[str, str]) -> tuple[int, ...] | None:
    """The cell's category position in each dimension (None when a code is not in the table)."""
    positions = []
    for dimension in parsed.dimensions:
        code = codes.get(dimension.id)
        if code not in dimension.codes:
            return None
        positions.append(dimension.codes.index(code))
    return tuple(positions)


def _tidy_row(parsed: ParsedTable, correction: CellCorrection) -> pa.Table:
    """The corrected cell as a one-row tidy table with the same columns as the table."""
    positions = _positions(parsed, correction.codes)
    assert positions is not None, "a rejected cell has a category in every dimension"
    row = tidy_table({}, parsed.dimensions,
                     iter([Cell(positions, correction.value, CORRECTED_STATUS)]),
                     parsed.dataset_unit)
    return row.table


def _same_value_type(table: pa.Table, row: pa.Table) -> tuple[pa.Table, pa.Table]:
    """Whole numbers stay int64 only when both are; otherwise both become float64."""
    if table.schema.field("value").type == row.schema.field("value").type:
        return table, row.select(table.column_names)
    index = table.schema.get_field_index("value")
    return (table.set_column(index, "value", table["value"].cast(pa.float64())),
            row.select(table.column_names).set_column(
                index, "value", row["value"].cast(pa.float64())))
