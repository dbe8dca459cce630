"""`bylab indicators ...`: compute KPIs, show values with provenance, export them."""

from __future__ import annotations

import sys
from typing import Annotated

import typer
from sqlalchemy import select

from bylab.auth.actions import actor_for_user
from bylab.auth.models import User
from bylab.core import Context
from bylab.errors import NotFound
from bylab.indicators.actions import (
    indicator_compute,
    indicator_coverage,
    indicator_value_show,
    indicator_values,
    kpi_show,
    method_label,
)
from bylab.indicators.compare import PeerKind, indicator_compare
from bylab.indicators.crosswalk import STATUS, crosswalk_list
from bylab.indicators.exports import ExportFormat, write_export
from bylab.indicators.incremental import indicator_recompute_dataset
from bylab.indicators.models import TargetKind, TargetScope, Verdict
from bylab.indicators.reviews import review_add, review_list
from bylab.indicators.targets import target_add, target_status

app = typer.Typer(no_args_is_help=True)

def _system_context():  # noqa: ANN202
    from bylab.cli import open_bylab

    return open_bylab().system_context()


@app.command("compute")
def compute(
    kpi: Annotated[list[str] | None, typer.Option(help="KPI code or slug (repeatable); "
                                                  "default: every defined KPI.")] = None,
) -> None:
    """Compute KPIs for every mapped place and period and store the results."""
    report, _records = indicator_compute(_system_context(), kpi or None)
    for code, counts in sorted(report.by_kpi.items()):
        typer.echo(f"{code}\t{counts['computed']} computed\t{counts['missing']} missing")
    for problem in report.problems:
        typer.echo(f"note: {problem}", err=True)
    typer.echo(f"{report.computed} values, {report.missing} missing records "
               f"in {report.seconds:.2f} s", err=True)


@app.command("recompute")
def recompute(
    dataset: Annotated[str, typer.Option(help="The dataset that changed (name).")],
) -> None:
    """Recompute only the KPIs and places that depend on a dataset's latest change."""
    report = indicator_recompute_dataset(_system_context(), dataset)
    places = ("every place" if report.place_ids is None
              else f"{len(report.place_ids)} places")
    typer.echo(f"{dataset}: {', '.join(report.kpi_codes) or 'no dependent KPI'}; {places}; "
               f"{report.stored} records stored in {report.seconds:.2f} s")


@app.command("show")
def show(
    place: Annotated[str, typer.Option(help="Place id, e.g. NO-4001.")],
    kpi: Annotated[str | None, typer.Option(help="KPI code or slug; default: coverage.")] = None,
) -> None:
    """Show a place's values of one KPI with provenance, or the place's KPI coverage."""
    ctx = _system_context()
    if kpi is None:
        _print_coverage(ctx, place)
        return
    entry = kpi_show(kpi)
    typer.echo(f"{entry.kpi.code}  {entry.kpi.name()}  "
               f"[{method_label(entry.method) or 'not defined'}]")
    for row in indicator_values(ctx, place=place, kpi=kpi, include_missing=True):
        stored = indicator_value_show(ctx, row.kpi_code, row.place_code, row.period)
        if row.value is None:
            typer.echo(f"  {row.period}  missing: {row.reason}")
            continue
        typer.echo(f"  {row.period}  {row.value:.6g} {row.unit}")
        for item in stored.provenance.get("inputs", []):
            for source in item["sources"]:
                origin = (f"{source['dataset']} v{source['version']} WHERE {source['where']}"
                          if "dataset" in source else f"places register ({source['places']})")
                typer.echo(f"      {item['variable']} = {item['value']:.6g} {item['unit']} "
                           f"({item['period'] or 'static'}) from {origin}")
        for note in stored.provenance.get("notes", []):
            typer.echo(f"      note: {note}")


def _print_coverage(ctx, place: str) -> None:  # noqa: ANN001
    coverage = indicator_coverage(ctx, place)
    typer.echo(f"{coverage.place_id} {coverage.place_name}: {coverage.computed} of "
               f"{coverage.total} U4SSC KPIs computed")
    for dimension, counts in coverage.by_dimension.items():
        typer.echo(f"  {dimension}: {counts['computed']} of {counts['total']}")
    for status in coverage.kpis + coverage.context:
        if status.status in ("computed", "missing"):
            detail = (f"{status.latest_value:.6g} ({status.latest_period})"
                      if status.status == "computed" else status.reason)
            typer.echo(f"  {status.entry.kpi.code}  {status.status}: {detail}")


@app.command("export")
def export(
    format: Annotated[ExportFormat, typer.Option("--format", help="Output format.")] = (
        ExportFormat.CSV),
    place: Annotated[str | None, typer.Option(help="Only this place id.")] = None,
    kpi: Annotated[str | None, typer.Option(help="Only this KPI (code or slug).")] = None,
    period: Annotated[str | None, typer.Option(help="Only this period, e.g. 2022.")] = None,
    include_missing: Annotated[bool, typer.Option(help="Also rows without a value.")] = False,
) -> None:
    """Write stored values to stdout: CSV (columns kpi_code, place_code, place_name, period,
    value, unit, method, status, reason, computed_at), a JSON-stat 2.0 dataset, or FIWARE
    KeyPerformanceIndicator entities (a JSON array)."""
    rows = indicator_values(_system_context(), place, kpi, period, include_missing)
    write_export(rows, format, sys.stdout)


@app.command("review")
def review_command(
    kpi: Annotated[str, typer.Option(help="KPI code or slug.")],
    place: Annotated[str, typer.Option(help="Place id, e.g. NO-1506.")],
    period: Annotated[str, typer.Option(help="Period of the value, e.g. 2022.")],
    verdict: Annotated[Verdict, typer.Option(help="approve, or question the value.")],
    reviewer: Annotated[str, typer.Option(help="Username of the verifier signing.")],
    comment: Annotated[str, typer.Option(help="Why; required to question.")] = "",
) -> None:
    """Approve or question a stored value as a named verifier."""
    state = review_add(_user_context(reviewer), kpi, place, period, verdict, comment)
    typer.echo(f"review {state.id}: {state.verdict} {state.kpi_code} {state.place_id} "
               f"{state.period} = {state.value:.6g} by {state.reviewer} ({state.state})")


@app.command("reviews")
def reviews_command(
    place: Annotated[str | None, typer.Option(help="Only this place id.")] = None,
    kpi: Annotated[str | None, typer.Option(help="Only this KPI (code or slug).")] = None,
    period: Annotated[str | None, typer.Option(help="Only this period.")] = None,
) -> None:
    """List reviews, newest first, each current or invalidated (inputs changed)."""
    for state in review_list(_system_context(), place, kpi, period):
        why = f" ({state.invalidated_because})" if state.invalidated_because else ""
        typer.echo(f"{state.created_at:%Y-%m-%d %H:%M}\t{state.kpi_code}\t{state.place_id}\t"
                   f"{state.period}\t{state.verdict}\tby {state.reviewer}\t{state.state}{why}"
                   + (f"\t{state.comment}" if state.comment else ""))


def _user_context(username: str) -> Context:
    system = _system_context()
    with system.db.session() as session:
        user = session.scalar(select(User).where(User.username == username.strip()))
        if user is None or not user.active:
            raise NotFound("no active user '{username}'", field="reviewer", username=username)
        return system.bylab.context(actor_for_user(session, user))


@app.command("target-add")
def target_add_command(
    kpi: Annotated[str, typer.Option(help="KPI code or slug.")],
    place: Annotated[str, typer.Option(help="Place id; the parent for --scope children; "
                                       "the country code for --scope country.")],
    value: Annotated[float, typer.Option(help="Target value, in the KPI's unit.")],
    year: Annotated[int, typer.Option(help="Year the target is to be reached.")],
    kind: Annotated[TargetKind, typer.Option(help="Kind of target.")],
    source: Annotated[str, typer.Option(help="Where the target comes from (plan, law, SDG).")],
    scope: Annotated[TargetScope, typer.Option(help="Whom the target is for.")] = (
        TargetScope.PLACE),
) -> None:
    """Add a KPI target (as the system administrator)."""
    target = target_add(_system_context(), kpi, place, value, year, kind, source, scope)
    typer.echo(f"target {target.id}: {target.kpi_code} {target.scope} {target.place_id} "
               f"{target.target_value:.6g} by {target.target_year} ({target.kind})")


@app.command("status")
def status_command(
    place: Annotated[str, typer.Option(help="Place id, e.g. NO-1506.")],
    kpi: Annotated[str | None, typer.Option(help="Only this KPI (code or slug).")] = None,
) -> None:
    """Show a place's status (met, on track, off track) against its targets."""
    for item in target_status(_system_context(), place, kpi):
        target = item.target
        latest = ("no value" if item.latest_value is None
                  else f"{item.latest_value:.6g} ({item.latest_period})")
        projected = "" if item.projected_value is None else (
            f", trend gives {item.projected_value:.6g} in {target.target_year}")
        gap = "" if item.gap is None else f", gap {item.gap:+.6g}"
        typer.echo(f"{target.kpi_code}\t{item.status}\ttarget {target.target_value:.6g} by "
                   f"{target.target_year} ({target.kind}); latest {latest}{gap}{projected}")


@app.command("compare")
def compare_command(
    peers: Annotated[PeerKind, typer.Option(help="Peer group: region, size or ids.")],
    place: Annotated[str | None, typer.Option(help="Place id.")] = None,
    kpi: Annotated[str | None, typer.Option(help="KPI; default every KPI of the place.")] = None,
    period: Annotated[str | None, typer.Option(help="Year; default the latest.")] = None,
    ids: Annotated[str | None, typer.Option(help="Comma-separated place ids (--peers ids).")
                   ] = None,
) -> None:
    """Rank, percentile and 0–100 score of a place among its peers (method: see
    `bylab.indicators.compare`)."""
    comparison = indicator_compare(_system_context(), peers, place, kpi, period,
                                   ids.split(",") if ids else None)
    typer.echo(f"peers: {comparison.peer_label} ({len(comparison.peer_ids)} places)")
    for refused in comparison.refused:
        typer.echo(f"not compared: {refused}", err=True)
    for item in comparison.kpis:
        typer.echo(f"{item.kpi_code} {item.period} ({item.direction})")
        if item.warning:
            typer.echo(f"  warning: {item.warning}")
        for entry in item.entries:
            score = "" if entry.score is None else f"\tscore {entry.score:.1f}"
            mark = "*" if entry.place_id == comparison.place_id else " "
            typer.echo(f" {mark}{entry.rank:>3}  {entry.place_id}  {entry.place_name}\t"
                       f"{entry.value:.6g}\tpercentile {entry.percentile:.1f}{score}")
    for dimension, score in comparison.dimensions.items():
        if score is not None:
            typer.echo(f"{dimension}: {score:.1f}")


@app.command("crosswalk")
def crosswalk_command(
    kpi: Annotated[str | None, typer.Option(help="Only this KPI (code or slug).")] = None,
    system: Annotated[str | None, typer.Option(help="kolada, kostra or gus_bdl.")] = None,
) -> None:
    """National indicators mapped to U4SSC KPIs and ISO 37120 (bylab's unverified mapping)."""
    typer.echo(f"# {STATUS}")
    for entry in crosswalk_list(kpi, system):
        iso = f"ISO 37120 {entry.iso37120}" if entry.iso37120 else "no ISO 37120 match"
        typer.echo(f"{entry.system} {entry.id}\t{entry.name}\t-> {entry.kpi} ({iso})\t"
                   f"{entry.comparability.value}" + (f": {entry.caveat}" if entry.caveat else ""))
