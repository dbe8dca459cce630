"""Saved harvest sources: create, list, change and delete them; run one (logging the run with
its counts, errors and dead letters); run the scheduled ones that are due.

Sources belong to an organisation: its members see them, its editors manage and run them;
anyone else is told the source does not exist. A due source is claimed in the database before
it runs, so with several server processes (or a server and ``bylab harvest run-due``) each
due run happens once."""

from __future__ import annotations

import logging
import os
import socket
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from pydantic import BaseModel, Field, field_validator
from sqlalchemy import ColumnElement, or_, select, true, update
from sqlalchemy.orm import Session

from bylab.auth.actions import check_name, organisation_get
from bylab.catalog.metadata import known_licence
from bylab.catalog.models import Dataset, Visibility
from bylab.connectors.cell_correction import table_harvest
from bylab.connectors.ckan_harvest import CkanHarvest, harvest_ckan
from bylab.connectors.harvest import HarvestReport
from bylab.connectors.models import (
    HarvestDeadLetter,
    HarvestRun,
    HarvestSource,
    RunStatus,
    SourceKind,
)
from bylab.connectors.pxweb import selections_from_query
from bylab.connectors.schedule import parse_schedule
from bylab.connectors.sta_harvest import StaHarvest, harvest_sta
from bylab.connectors.table_source import response_format
from bylab.core import Context
from bylab.errors import BylabError, Conflict, InvalidInput, NotAuthorized, NotFound
from bylab.sensors.models import SensorVisibility, Thing
from bylab.storage.base import utcnow

__all__ = ["DueRuns", "SourceInput", "dead_letters", "run_due", "source_create",
           "source_delete", "source_get", "source_list", "source_run", "source_runs",
           "source_update"]

log = logging.getLogger(__name__)

CLAIM_LEASE = timedelta(hours=1)  # a crashed runner's claim lapses after this
# progress(done, total, unit), as bylab.catalog.ingest reports it.
Progress = Callable[[int, int | None, str], None]


class SourceInput(BaseModel):
    """A harvest source as the API, the UI form and the CLI give it."""

    name: str = Field(description="URL name of the source: lowercase letters, digits, - and _")
    kind: SourceKind
    url: str = Field(description="pxweb: API base; jsonstat: document URL; ckan: portal URL; "
                     "sta: SensorThings service root (…/v1.1)")
    organisation: str = Field(description="Owning organisation (name or id)")
    dataset: str = Field(description="Dataset to write (ckan: prefix of the dataset names; "
                         "sta: prefix of the Thing names and Datastream keys)")
    table: str = Field(default="", description="pxweb: table path (v1) or id (v2)")
    query: dict[str, Any] = Field(
        default_factory=dict,
        description="pxweb: the saved query ({'query': [...]} v1 or {'selection': [...]} v2, "
        "optional 'response': {'format'}); ckan: q, fq, resource_formats, limit")
    title: str = Field(default="", description="Dataset title (default: the table's label)")
    visibility: Visibility = Field(
        default=Visibility.PRIVATE,
        description="Who may see the dataset: kept in step on every run")
    licence_id: str = "CC-BY-4.0"
    country: str = Field(default="", description="NO or SE: link region codes to places "
                         "(default: from the statistics office's host)")
    schedule: str = Field(default="", description="'every 6h', 'daily 03:00' (UTC) or empty")

    @field_validator("url")
    @classmethod
    def _http_url(cls, url: str) -> str:
        if not url.startswith(("http://", "https://")):
            raise ValueError("must be an http:// or https:// URL")
        return url.strip()

    @field_validator("licence_id")
    @classmethod
    def _known_licence(cls, licence_id: str) -> str:
        return known_licence(licence_id)

    @field_validator("country")
    @classmethod
    def _country_code(cls, country: str) -> str:
        if country and (len(country) != 2 or not country.isalpha()):
            raise ValueError("a two-letter country code, e.g. NO or SE")
        return country.upper()


def _validate(data: SourceInput) -> None:
    """Checks that need more than one field."""
    check_name(data.name)
    check_name(data.dataset, field="dataset")
    parse_schedule(data.schedule)
    if data.kind == SourceKind.PXWEB:
        if not data.table.strip():
            raise InvalidInput("a PxWeb source needs its table", field="table")
        selections_from_query(data.query, "query")
        response_format(data.query)
    if data.kind == SourceKind.CKAN:
        _ckan_options(data.query)
    if data.kind == SourceKind.STA and data.query:
        raise InvalidInput("a SensorThings source takes no query", field="query")


@dataclass(frozen=True)
class _CkanOptions:
    q: str = ""
    fq: str = ""
    resource_formats: tuple[str, ...] = ()
    limit: int | None = None


def _ckan_options(query: dict[str, Any]) -> _CkanOptions:
    unknown = sorted(set(query) - {"q", "fq", "resource_formats", "limit"})
    if unknown:
        raise InvalidInput("unknown CKAN option(s) {options}; use q, fq, resource_formats, "
                           "limit", field=f"query.{unknown[0]}", options=unknown)
    formats = query.get("resource_formats") or []
    if not isinstance(formats, list) or not all(isinstance(item, str) for item in formats):
        raise InvalidInput("a list of formats, e.g. [\"CSV\"]", field="query.resource_formats")
    limit = query.get("limit")
    if limit is not None and (not isinstance(limit, int) or limit < 1):
        raise InvalidInput("a whole number of packages, at least 1", field="query.limit")
    return _CkanOptions(q=str(query.get("q") or ""), fq=str(query.get("fq") or ""),
                        resource_formats=tuple(formats), limit=limit)


# --- reading and managing sources ---------------------------------------------------------

def _visible(ctx: Context) -> ColumnElement[bool]:
    if ctx.actor.is_sysadmin:
        return true()
    return HarvestSource.organisation_id.in_(sorted(ctx.actor.member_org_ids))


def _get(session: Session, ctx: Context, name_or_id: str) -> HarvestSource:
    source = session.scalar(select(HarvestSource).where(
        or_(HarvestSource.name == name_or_id, HarvestSource.id == name_or_id), _visible(ctx)))
    if source is None:
        raise NotFound("no harvest source '{source}'", source=name_or_id)
    return source


def _editable(session: Session, ctx: Context, name_or_id: str) -> HarvestSource:
    source = _get(session, ctx, name_or_id)
    _require_editor(ctx, source.organisation_id)
    return source


def _require_editor(ctx: Context, organisation_id: str) -> None:
    if not ctx.actor.can_edit(organisation_id):
        raise NotAuthorized("you need the editor role in the source's organisation",
                            field="organisation")


def source_list(ctx: Context) -> list[HarvestSource]:
    """The sources of the actor's organisations (every source for a system administrator)."""
    with ctx.db.session() as session:
        return list(session.scalars(select(HarvestSource).where(_visible(ctx))
                                    .order_by(HarvestSource.name)))


def source_get(ctx: Context, name_or_id: str) -> HarvestSource:
    with ctx.db.session() as session:
        return _get(session, ctx, name_or_id)


def source_create(ctx: Context, data: SourceInput) -> HarvestSource:
    """Save a source of an organisation the actor edits for."""
    _validate(data)
    with ctx.db.session() as session:
        organisation_id = organisation_get(session, data.organisation).id
        _require_editor(ctx, organisation_id)
        if session.scalar(select(HarvestSource.id).where(HarvestSource.name == data.name)):
            raise Conflict("a harvest source named '{name}' exists already", field="name",
                           name=data.name)
        _check_target(session, data, organisation_id)
        source = HarvestSource(name=data.name, organisation_id=organisation_id,
                               created_by=ctx.actor.username or "", known_variables=[],
                               state={})
        _apply(source, data)
        session.add(source)
    return source


def source_update(ctx: Context, name_or_id: str, data: SourceInput) -> HarvestSource:
    """Replace a source's settings (its name and organisation stay). A changed table or query
    forgets the variables seen so far."""
    _validate(data)
    with ctx.db.session() as session:
        source = _editable(session, ctx, name_or_id)
        data = data.model_copy(update={"name": source.name})
        _check_target(session, data, source.organisation_id)
        if (data.kind, data.url, data.table, data.query) != (
                source.kind, source.url, source.table_ref, source.query):
            source.known_variables, source.state = [], {}
        _apply(source, data)
        _things_follow(session, source)
    return source


def source_delete(ctx: Context, name_or_id: str) -> None:
    """Delete a source with its run log (the datasets it wrote stay; the Things it brought
    keep the visibility the source had)."""
    with ctx.db.session() as session:
        source = _editable(session, ctx, name_or_id)
        session.execute(update(Thing).where(Thing.source_id == source.id).values(
            visibility=_sensor_visibility(source.visibility), source_id=None)
            .execution_options(synchronize_session=False))
        session.delete(source)


def _sensor_visibility(visibility: str) -> SensorVisibility:
    """Sensor data is public or private to its organisation: a shared source is private."""
    return SensorVisibility.PUBLIC if visibility == Visibility.PUBLIC \
        else SensorVisibility.PRIVATE


def _things_follow(session: Session, source: HarvestSource) -> None:
    """Keep the harvested Things' own visibility in step with the source's (what they fall
    back to if the source is deleted; who sees them is read through the source)."""
    session.execute(update(Thing).where(Thing.source_id == source.id).values(
        visibility=_sensor_visibility(source.visibility))
        .execution_options(synchronize_session=False))


def _check_target(session: Session, data: SourceInput, organisation_id: str) -> None:
    if data.kind in (SourceKind.CKAN, SourceKind.STA):
        return
    owner = session.scalar(select(Dataset.organisation_id).where(Dataset.name == data.dataset))
    if owner is not None and owner != organisation_id:
        raise Conflict("dataset '{dataset}' belongs to another organisation",
                       field="dataset", dataset=data.dataset)


def _apply(source: HarvestSource, data: SourceInput) -> None:
    source.kind, source.url, source.table_ref = data.kind, data.url, data.table.strip()
    source.query, source.dataset_name, source.title = data.query, data.dataset, data.title
    source.visibility, source.licence_id = data.visibility, data.licence_id
    source.country, source.schedule = data.country, data.schedule.strip()
    source.next_run_at = parse_schedule(source.schedule).next_after(utcnow())
    source.modified = utcnow()


def source_runs(ctx: Context, name_or_id: str, limit: int = 50) -> list[HarvestRun]:
    """The source's latest runs, newest first."""
    with ctx.db.session() as session:
        source = _get(session, ctx, name_or_id)
        return list(session.scalars(select(HarvestRun).where(HarvestRun.source_id == source.id)
                                    .order_by(HarvestRun.started.desc()).limit(limit)))


def dead_letters(ctx: Context, run_id: str, limit: int = 1000) -> list[HarvestDeadLetter]:
    """What one run could not store, in the order it was met."""
    with ctx.db.session() as session:
        run = session.get(HarvestRun, run_id)
        if run is None:
            raise NotFound("no harvest run '{run}'", run=run_id)
        _get(session, ctx, run.source_id)  # hidden with its source
        return list(session.scalars(
            select(HarvestDeadLetter).where(HarvestDeadLetter.run_id == run_id)
            .order_by(HarvestDeadLetter.created, HarvestDeadLetter.location).limit(limit)))


# --- running ------------------------------------------------------------------------------

@dataclass
class _Outcome:
    rows_read: int
    rows_stored: int
    status: RunStatus
    version: int | None = None
    notes: list[str] = field(default_factory=list)
    rejected: list[tuple[str, str, dict[str, Any]]] = field(default_factory=list)
    variables: list[str] = field(default_factory=list)
    summary: str = ""
    state: dict[str, Any] | None = None  # where the next run resumes, if it changed


def source_run(ctx: Context, name_or_id: str, trigger: str = "manual",
               progress: Progress | None = None) -> HarvestRun:
    """Run a source now and log the run. A failure is recorded on the run (status
    ``failed`` with the error and where it was found), not raised."""
    with ctx.db.session() as session:
        source = _editable(session, ctx, name_or_id)
        run = HarvestRun(source_id=source.id, trigger=trigger, notes=[])
        session.add(run)
    try:
        outcome = _execute(ctx, source, progress)
    except BylabError as error:
        return _finish_failed(ctx, run, str(error))
    except Exception as error:  # a bug or an unforeseen answer: logged, the run marked failed
        log.exception("harvest source %s failed", source.name)
        return _finish_failed(ctx, run, f"unexpected error: {error!r}")
    with ctx.db.session() as session:
        run = session.get(HarvestRun, run.id)
        assert run is not None
        run.status, run.finished = outcome.status, utcnow()
        run.rows_read, run.rows_stored = outcome.rows_read, outcome.rows_stored
        run.rows_rejected, run.dataset_version = len(outcome.rejected), outcome.version
        run.notes, run.message = outcome.notes, outcome.summary
        session.add_all(HarvestDeadLetter(run_id=run.id, location=location[:500], reason=reason,
                                          payload=payload)
                        for location, reason, payload in outcome.rejected)
        for location, reason, _ in outcome.rejected:
            log.warning("harvest dead letter: source=%s run=%s position=%s reason=%s",
                        source.name, run.id, location, reason)
        stored_source = session.get(HarvestSource, source.id)
        if stored_source is not None and outcome.variables and not stored_source.known_variables:
            stored_source.known_variables = outcome.variables
        if stored_source is not None and outcome.state is not None:
            stored_source.state = outcome.state
    return run


def _finish_failed(ctx: Context, run: HarvestRun, message: str) -> HarvestRun:
    with ctx.db.session() as session:
        stored = session.get(HarvestRun, run.id)
        assert stored is not None
        stored.status, stored.finished, stored.message = RunStatus.FAILED, utcnow(), message
    return stored


def _execute(ctx: Context, source: HarvestSource, progress: Progress | None) -> _Outcome:
    if source.kind == SourceKind.CKAN:
        return _run_ckan(ctx, source, progress)
    if source.kind == SourceKind.STA:
        return _run_sta(ctx, source, progress)
    # a table is harvested through its corrections, so a run keeps the cells users corrected
    report, _ = table_harvest(ctx, source, progress=progress)
    return _table_outcome(report)


def _table_outcome(report: HarvestReport) -> _Outcome:
    rejected = [(cell.location, cell.reason, {"codes": cell.codes, "value": cell.value})
                for cell in report.rejected]
    return _Outcome(
        rows_read=report.cells_read, rows_stored=0 if report.unchanged else report.rows,
        status=RunStatus.UNCHANGED if report.unchanged else RunStatus.STORED,
        version=report.version, notes=report.notes(), rejected=rejected,
        variables=report.variables, summary=report.summary())


def _run_ckan(ctx: Context, source: HarvestSource, progress: Progress | None) -> _Outcome:
    options = _ckan_options(source.query)
    harvest = CkanHarvest(portal_url=source.url, organisation=source.organisation_id,
                          name_prefix=source.dataset_name,
                          visibility=Visibility(source.visibility), query=options.q,
                          filter_query=options.fq, resource_formats=options.resource_formats,
                          limit=options.limit)
    report = harvest_ckan(ctx, harvest, progress and (
        lambda done, total: progress(done, total, "packages")))
    return _Outcome(
        rows_read=report.packages_read, rows_stored=report.stored,
        status=RunStatus.STORED if report.stored else RunStatus.UNCHANGED,
        rejected=[(item.location, item.reason, item.payload) for item in report.rejected],
        notes=[f"{label}: {', '.join(names)}" for label, names in
               (("new", report.created), ("updated", report.updated)) if names],
        summary=report.summary())


def _run_sta(ctx: Context, source: HarvestSource, progress: Progress | None) -> _Outcome:
    harvest = StaHarvest(root_url=source.url, organisation=source.organisation_id,
                         prefix=source.dataset_name,
                         visibility=_sensor_visibility(source.visibility), source_id=source.id)
    report = harvest_sta(ctx, harvest, source.state, progress and (
        lambda done, total: progress(done, total, "observations")))
    status = (RunStatus.FAILED if report.failure else
              RunStatus.STORED if report.observations_stored or report.things_created
              or report.datastreams_created else RunStatus.UNCHANGED)
    summary = report.summary()
    if report.failure:
        summary = (f"stopped early: {report.failure}. Kept what came before ({summary}); "
                   "the next run resumes after it")
    return _Outcome(
        rows_read=report.observations_read, rows_stored=report.observations_stored,
        status=status, summary=summary, state=report.state,
        rejected=[(item.location, item.reason, item.payload) for item in report.rejected])


# --- the scheduler ------------------------------------------------------------------------

@dataclass
class DueRuns:
    runs: list[HarvestRun] = field(default_factory=list)
    skipped: int = 0  # due, but claimed by another process


def runner_name() -> str:
    return f"{socket.gethostname()}:{os.getpid()}"


def run_due(ctx: Context, now: datetime | None = None,
            progress: Callable[[HarvestSource], None] | None = None) -> DueRuns:
    """Run every scheduled source whose time has come, each once even when several
    processes ask at the same time: a source is claimed with one conditional UPDATE first."""
    now = now or utcnow()
    with ctx.db.session() as session:
        due = list(session.scalars(select(HarvestSource).where(
            HarvestSource.next_run_at.is_not(None), HarvestSource.next_run_at <= now,
            _visible(ctx)).order_by(HarvestSource.next_run_at)))
    result = DueRuns()
    for source in due:
        if not _claim(ctx, source.id, now):
            result.skipped += 1
            continue
        if progress:
            progress(source)
        try:
            result.runs.append(source_run(ctx, source.id, trigger="schedule"))
        finally:
            _release(ctx, source.id, now)
    return result


def _claim(ctx: Context, source_id: str, now: datetime) -> bool:
    with ctx.db.session() as session:
        claimed = session.execute(
            update(HarvestSource)
            .where(HarvestSource.id == source_id, HarvestSource.next_run_at <= now,
                   or_(HarvestSource.claimed_until.is_(None),
                       HarvestSource.claimed_until < now))
            .values(claimed_until=now + CLAIM_LEASE, claimed_by=runner_name())
            .execution_options(synchronize_session=False))
        return claimed.rowcount == 1  # type: ignore[attr-defined]


def _release(ctx: Context, source_id: str, now: datetime) -> None:
    """Free the claim and set the next run time from the schedule."""
    with ctx.db.session() as session:
        source = session.get(HarvestSource, source_id)
        if source is None:  # deleted while it ran
            return
        source.next_run_at = parse_schedule(source.schedule).next_after(max(now, utcnow()))
        source.claimed_until, source.claimed_by = None, ""
