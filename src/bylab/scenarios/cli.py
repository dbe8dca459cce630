"""`bylab scenario ...`: run scenario files, write a place's baseline, list levers and presets,
and solve for lever values that reach a target."""

from __future__ import annotations

import sys
from enum import StrEnum
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.progress import Progress

from bylab.errors import InvalidInput
from bylab.mobility import cli as mobility_cli
from bylab.mobility.network import NetworkKind
from bylab.scenarios.actions import ScenarioResult, TargetCheck, scenario_baseline, scenario_run
from bylab.scenarios.export import write_csv, write_json
from bylab.scenarios.levers import LEVERS
from bylab.scenarios.solver import scenario_solve
from bylab.scenarios.spec import preset_texts, spec_load, spec_to_yaml
from bylab.scenarios.traffic import traffic_compare, traffic_submit

app = typer.Typer(no_args_is_help=True)
console = Console(stderr=True)


class ResultFormat(StrEnum):
    CSV = "csv"
    JSON = "json"


def _system_context():  # noqa: ANN202
    from bylab.cli import open_bylab

    return open_bylab().system_context()


@app.command("run")
def run(
    files: Annotated[list[Path], typer.Argument(help="Scenario YAML files (compared side by "
                                                     "side in one output).")],
    draws: Annotated[int, typer.Option(min=1, help="Monte Carlo draws.")] = 1000,
    seed: Annotated[int | None, typer.Option(help="Random seed: the same seed gives the "
                                                  "same numbers.")] = None,
    format: Annotated[ResultFormat, typer.Option("--format", help="Output format.")] = (
        ResultFormat.CSV),
) -> None:
    """Project scenarios and write the results to stdout (CSV columns: scenario, place_code,
    kpi_code, year, p05, p25, p50, p75, p95, mean, unit)."""
    specs = [spec_load(path) for path in files]
    ctx = _system_context()
    results: list[ScenarioResult] = []
    with Progress(console=console, transient=True) as progress:
        task = progress.add_task("projecting", total=len(specs))
        for spec in specs:
            results.append(scenario_run(ctx, spec, draws, seed))
            progress.advance(task)
    (write_csv if format == ResultFormat.CSV else write_json)(results, sys.stdout)
    for result in results:
        _report(result)


def _report(result: ScenarioResult) -> None:
    for place, kpi in result.missing:
        console.print(f"note: {result.spec.name}: no values of '{kpi}' for {place}")
    for outcome in result.targets:
        target = outcome.target
        chance = ("–" if outcome.probability is None else f"{outcome.probability:.0%}")
        console.print(f"{result.spec.name}: {target.place_code} {target.kpi_code} "
                      f"{target.value} by {target.year}: {chance} {outcome.note}")
    console.print(f"{result.spec.name}: {len(result.rows)} rows, {result.draws} draws "
                  f"in {result.seconds:.2f} s")


@app.command("baseline")
def baseline(
    place: Annotated[str, typer.Option(help="Place id, e.g. SE-0180 or NO-4001.")],
    horizon: Annotated[int, typer.Option(help="Last projected year.")] = 2050,
) -> None:
    """Write the zero-lever scenario of a place (YAML) to stdout, as a starting file."""
    spec = scenario_baseline(_system_context(), place, horizon)
    sys.stdout.write("# bylab scenario: every lever at zero (the trend goes on). Edit the "
                     "lever paths;\n# levers and effect models: docs/scenarios/README.md\n")
    sys.stdout.write(spec_to_yaml(spec))


@app.command("levers")
def levers() -> None:
    """List the levers, their units and the KPIs they act on."""
    for lever in LEVERS:
        kpis = ", ".join(f"{effect.kpi_code} ({effect.coefficient:+.3g} × {effect.exposure})"
                         for effect in lever.effects)
        typer.echo(f"{lever.key}\t{lever.unit}\t{kpis}")


@app.command("preset")
def preset(
    name: Annotated[str | None, typer.Argument(help="Preset name; none: list them.")] = None,
) -> None:
    """Print an annotated preset scenario file, or list the presets."""
    texts = preset_texts()
    if name is None:
        typer.echo("\n".join(texts))
        return
    if name not in texts:
        raise InvalidInput("no preset '{name}' (presets: {presets})", field="name", name=name,
                           presets=", ".join(texts))
    sys.stdout.write(texts[name])


@app.command("solve")
def solve(
    file: Annotated[Path, typer.Argument(help="Scenario YAML file.")],
    place: Annotated[str, typer.Option(help="Place id.")],
    kpi: Annotated[str, typer.Option(help="KPI code or slug.")],
    target: Annotated[float, typer.Option(help="Target value in the KPI's unit.")],
    year: Annotated[int, typer.Option(help="Year the target is for.")],
    bounds: Annotated[list[str], typer.Option(help="lever=low:high (repeatable).")],
    probability: Annotated[float, typer.Option(help="Wanted probability.")] = 0.8,
    draws: Annotated[int, typer.Option(min=1, help="Monte Carlo draws.")] = 1000,
    seed: Annotated[int, typer.Option(help="Random seed.")] = 0,
) -> None:
    """Find the smallest lever values within bounds that reach a target with the wanted
    probability; writes the solved scenario (YAML) to stdout."""
    solved = scenario_solve(_system_context(), spec_load(file),
                            TargetCheck(place, kpi, target, year), probability,
                            parse_bounds(bounds), draws, seed)
    for key, value in solved.lever_values.items():
        console.print(f"{key}: {value:.4g} by {year}")
    verdict = "reached" if solved.reachable else "NOT reachable within the bounds"
    console.print(f"{verdict}: {solved.probability:.1%} of {draws} draws (seed {seed})")
    sys.stdout.write(spec_to_yaml(solved.spec))


def parse_bounds(texts: list[str]) -> dict[str, tuple[float, float]]:
    """``lever=low:high`` texts as a mapping; InvalidInput naming the bad one."""
    bounds = {}
    for text in texts:
        key, _, limits = text.partition("=")
        low, _, high = limits.partition(":")
        try:
            bounds[key.strip()] = (float(low), float(high))
        except ValueError:
            raise InvalidInput("'{text}' is not lever=low:high", field="bounds",
                               text=text) from None
    return bounds


@app.command("simulate-traffic")
def simulate_traffic(
    file: Annotated[Path, typer.Argument(help="Scenario YAML file.")],
    place: Annotated[str, typer.Option(help="Place id (one of the scenario's places).")],
    year: Annotated[int, typer.Option(help="Year whose demand to simulate.")],
    organisation: mobility_cli.OrganisationOption,
    osm: mobility_cli.OsmOption = None, kind: mobility_cli.KindOption = NetworkKind.GRID,
    size: mobility_cli.SizeOption = 5, edge_length: mobility_cli.LengthOption = 200.0,
    lanes: mobility_cli.LanesOption = 1, seed: mobility_cli.SeedOption = 1,
    population: Annotated[int | None, typer.Option(
        min=1, help="Inhabitants, instead of the place's population projected by the "
                    "scenario.")] = None,
) -> None:
    """Simulate the car traffic of a place in a year with SUMO for the scenario and for its
    zero-lever baseline (demand from population and mode share after the modal shift), and
    write their travel time index, delays and CO2 side by side (TSV) to stdout."""
    spec = spec_load(file)
    ctx = _system_context()
    network = mobility_cli.network_spec(osm, kind, size, edge_length, lanes)
    runs = traffic_submit(ctx, spec, place, year, organisation, network, seed, population)
    for label, derived in (("scenario", runs.demand), ("baseline", runs.baseline_demand)):
        console.print(f"{label}: {derived.demand.car_trips()} car trips")
        for note in derived.assumptions:
            console.print(f"  {note}")
    for queued in (runs.run, runs.baseline):
        mobility_cli.execute_with_progress(ctx, queued, err=True)
    compared = traffic_compare(ctx, runs.run.id, runs.baseline.id)
    typer.echo("indicator\tscenario\tbaseline\tchange")
    for row in compared.rows:
        typer.echo(f"{row['indicator']}\t{row['scenario']:.6g}\t{row['baseline']:.6g}\t"
                   f"{row['change']:+.6g}")
    console.print(f"runs: {runs.run.id} (scenario), {runs.baseline.id} (baseline); "
                  f"synthetic demand{'' if osm else ' on a synthetic network'}")
