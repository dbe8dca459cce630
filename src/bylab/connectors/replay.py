"""Replay a run's dead letters once their cause is fixed (a place mapping now exists, the
remote server is back, a corrected value is supplied): those that now succeed are stored and
marked replayed with when and by whom; those that still fail keep their reason, updated.

How a letter is replayed depends on the source's kind: a CKAN package is imported again, a
SensorThings observation is stored (with the corrected result when one is given), and the cells
of a statistics table are replayed by harvesting the table again — a new dataset version is
stored only when the data changed. One table cell can also be replayed with a corrected value
and a note saying where it comes from (``bylab.connectors.cell_correction``): the new version
holds it, marked ``corrected``, and its note says by whom and why."""

from __future__ import annotations

import json
import logging
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from sqlalchemy import select

from bylab.catalog.models import Visibility
from bylab.connectors.cell_correction import cell_correct, table_harvest
from bylab.connectors.ckan_harvest import CkanHarvest, harvest_ckan_package
from bylab.connectors.models import HarvestDeadLetter, HarvestRun, HarvestSource, SourceKind
from bylab.connectors.sources import _ckan_options, _editable
from bylab.connectors.sta_harvest import store_observation
from bylab.core import Context
from bylab.errors import BylabError, Conflict, InvalidInput, NotFound
from bylab.storage.base import utcnow

__all__ = ["ReplayReport", "dead_letters_replay"]

log = logging.getLogger(__name__)


@dataclass
class ReplayReport:
    """What one replay did: the letters stored now, those still failing, and the dataset
    version a table replay stored (None when the table was unchanged or not a table)."""

    run_id: str
    source: str  # the source's name
    replayed: list[str]  # dead letter ids
    still_failing: list[str]
    version: int | None = None
    correction: str = ""  # which cell was given which value, by whom and why

    def summary(self) -> str:
        stored = f"; stored version {self.version}" if self.version else ""
        corrected = f"; {self.correction}" if self.correction else ""
        return (f"replayed {len(self.replayed)} dead letter(s), "
                f"{len(self.still_failing)} still failing{stored}{corrected}")


# letter id -> None when stored now, else why it still fails
Results = dict[str, str | None]


def dead_letters_replay(ctx: Context, run_id: str, letter_id: str | None = None,
                        value: str | None = None, note: str | None = None) -> ReplayReport:
    """Replay the run's dead letters not replayed yet, or only ``letter_id`` (with the
    corrected ``value`` for its cell or observation result, when given; a table cell's
    correction needs the ``note`` saying where the value comes from). A refused correction
    changes nothing stored."""
    if value is not None and letter_id is None:
        raise InvalidInput("a corrected value is for one dead letter: name it", field="value")
    source, letters = _pending(ctx, run_id, letter_id)
    report = ReplayReport(run_id, source.name, [], [])
    if source.kind == SourceKind.CKAN:
        results = _replay_each(letters, _ckan_replayer(ctx, source))
    elif source.kind == SourceKind.STA:
        results = _replay_each(letters, _sta_replayer(ctx, source, value))
    elif value is not None:
        [letter] = letters
        corrected = cell_correct(ctx, source, letter, value, note)
        report.version, report.correction = corrected.version, corrected.change_note
        results = {letter.id: None}
        return _record(ctx, source, letters, report, results, corrected.record)
    else:
        results, report.version = _replay_table(ctx, source, letters)
    return _record(ctx, source, letters, report, results)


def _pending(ctx: Context, run_id: str, letter_id: str | None
             ) -> tuple[HarvestSource, list[HarvestDeadLetter]]:
    with ctx.db.session() as session:
        run = session.get(HarvestRun, run_id)
        if run is None:
            raise NotFound("no harvest run '{run}'", run=run_id)
        source = _editable(session, ctx, run.source_id)
        query = select(HarvestDeadLetter).where(HarvestDeadLetter.run_id == run_id)
        if letter_id is not None:
            letter = session.scalar(query.where(HarvestDeadLetter.id == letter_id))
            if letter is None:
                raise NotFound("no dead letter '{letter}' in run '{run}'", letter=letter_id,
                               run=run_id)
            if letter.replayed_at is not None:
                raise Conflict("dead letter '{letter}' was replayed already",
                               field="letter", letter=letter_id)
            return source, [letter]
        return source, list(session.scalars(
            query.where(HarvestDeadLetter.replayed_at.is_(None))
            .order_by(HarvestDeadLetter.created, HarvestDeadLetter.location)))


def _replay_each(letters: list[HarvestDeadLetter],
                 replay: Callable[[HarvestDeadLetter], None]) -> Results:
    results: Results = {}
    for letter in letters:
        try:
            replay(letter)
            results[letter.id] = None
        except BylabError as error:
            results[letter.id] = str(error)
    return results


def _ckan_replayer(ctx: Context, source: HarvestSource) -> Callable[[HarvestDeadLetter], None]:
    options = _ckan_options(source.query)
    harvest = CkanHarvest(portal_url=source.url, organisation=source.organisation_id,
                          name_prefix=source.dataset_name,
                          visibility=Visibility(source.visibility),
                          resource_formats=options.resource_formats)
    return lambda letter: _discard(harvest_ckan_package(ctx, harvest,
                                                        str(letter.payload["package"])))


def _sta_replayer(ctx: Context, source: HarvestSource, value: str | None
                  ) -> Callable[[HarvestDeadLetter], None]:
    def replay(letter: HarvestDeadLetter) -> None:
        observation = dict(letter.payload["observation"])
        if value is not None:
            observation["result"] = _number(value)
        store_observation(ctx, source.dataset_name, str(letter.payload["datastream"]),
                          observation)
    return replay


def _number(value: str) -> Any:
    """A corrected result as JSON reads it ("5.3" a number; anything else kept as given, to be
    refused with the reason an observation gets)."""
    try:
        return json.loads(value)
    except ValueError:
        return value


def _discard(_: object) -> None:
    return None


def _replay_table(ctx: Context, source: HarvestSource, letters: list[HarvestDeadLetter]
                  ) -> tuple[Results, int | None]:
    """Harvest the table again (keeping the cells corrected by hand): a letter whose cell is
    no longer rejected is stored with the table; one still rejected gets the new reason; a
    failed harvest is every letter's reason."""
    try:
        report, _ = table_harvest(ctx, source)
    except BylabError as error:
        return {letter.id: str(error) for letter in letters}, None
    still_rejected = {_cell_key(cell.codes): cell.reason for cell in report.rejected}
    return ({letter.id: still_rejected.get(_cell_key(letter.payload.get("codes") or {}))
             for letter in letters}, report.version)


def _cell_key(codes: dict[str, str]) -> str:
    return json.dumps(codes, sort_keys=True)


def _record(ctx: Context, source: HarvestSource, letters: list[HarvestDeadLetter],
            report: ReplayReport, results: Results,
            correction: dict[str, Any] | None = None) -> ReplayReport:
    """Mark the stored letters replayed (keeping a cell's ``correction`` on it), update the
    reasons of the others, log one line per letter and a note on the run."""
    now, actor = utcnow(), ctx.actor.username or "system"
    run_id = report.run_id
    with ctx.db.session() as session:
        for letter in letters:
            stored = session.get(HarvestDeadLetter, letter.id)
            assert stored is not None
            stored.tried_at = now
            reason = results[letter.id]
            if reason is None:
                stored.replayed_at, stored.replayed_by = now, actor
                if correction is not None:
                    stored.payload = {**stored.payload, "corrected": correction}
                report.replayed.append(letter.id)
                log.info("harvest dead letter replayed: source=%s run=%s position=%s by=%s",
                         source.name, run_id, letter.location, actor)
            else:
                stored.reason = reason
                report.still_failing.append(letter.id)
                log.warning("harvest dead letter still failing: source=%s run=%s position=%s "
                            "reason=%s", source.name, run_id, letter.location, reason)
        run = session.get(HarvestRun, run_id)
        if run is not None and letters:
            run.notes = [*run.notes, f"{now:%Y-%m-%d %H:%M:%S} {actor} {report.summary()}"]
    return report
