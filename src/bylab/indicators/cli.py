"""`bylab indicators ...`: compute KPIs, show values with provenance, export them."""

from __future__ import annotations

import csv
import json
import sys
from enum import StrEnum
from typing import Annotated, TextIO

import typer

from bylab.indicators.actions import (
    EXPORT_COLUMNS,
    ValueRow,
    indicator_compute,
    indicator_coverage,
    indicator_value_show,
    indicator_values,
    kpi_show,
    method_label,
)
from bylab.indicators.compare import PeerKind, indicator_compare
from bylab.indicators.models import TargetKind, TargetScope
from bylab.indicators.targets import target_add, target_status

app = typer.Typer(no_args_is_help=True)


class ExportFormat(StrEnum):
    CSV = "csv"


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
    """Write stored values as CSV to stdout (columns: see EXPORT_COLUMNS)."""
    rows = indicator_values(_system_context(), place, kpi, period, include_missing)
    write_csv(rows, sys.stdout)


def write_csv(rows: list[ValueRow], output: TextIO) -> None:
    writer = csv.writer(output, lineterminator="\n")
    writer.writerow(EXPORT_COLUMNS)
    for row in rows:
        writer.writerow([_cell(getattr(row, name)) for name in EXPORT_COLUMNS])


def _cell(value: object) -> str:
    if value is None:
        return ""
    if hasattr(value, "isoformat"):
        return value.isoformat()  # type: ignore[no-any-return]
    return json.dumps(value) if isinstance(value, float) else str(value)


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
    for item in comparison.kpis:
        typer.echo(f"{item.kpi_code} {item.period} ({item.direction})")
        for entry in item.entries:
            score = "" if entry.score is None else f"\tscore {entry.score:.1f}"
            mark = "*" if entry.place_id == comparison.place_id else " "
            typer.echo(f" {mark}{entry.rank:>3}  {entry.place_id}  {entry.place_name}\t"
                       f"{entry.value:.6g}\tpercentile {entry.percentile:.1f}{score}")
    for dimension, score in comparison.dimensions.items():
        if score is not None:
            typer.echo(f"{dimension}: {score:.1f}")
