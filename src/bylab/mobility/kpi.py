"""Simulated indicator values: the KPI inputs a SUMO run produced, per run and place.

They are SYNTHETIC (random demand, often a generated network) and are kept apart from the
measured values in ``indicator_values``: they are stored with the run (its results and its
published dataset) and read only through ``simulated_values``, which the KPI page shows in its
own "Simulated (SUMO)" section, never in the real distribution, map, ranking or targets.

Only the travel time index is a KPI value itself (U4SSC EC: I: T: 5A is a ratio, peak over
free-flow travel time). The CO₂ of the simulated cars is an *input* to the GHG KPI (road
traffic's part, for the simulated period only), not its per-capita annual value."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from bylab.core import Context
from bylab.indicators.actions import kpi_show
from bylab.mobility.models import MobilityRun, RunStatus

SYNTHETIC_LABEL = "synthetic simulation"
TRAVEL_TIME_INDEX_KPI = "EC: I: T: 5A"
GHG_KPI = "EN: EN: AQ: 2C"
KPI_VALUE, KPI_INPUT = "value", "input"


@dataclass(frozen=True)
class SimulatedOutput:
    """How one aggregated SUMO output relates to a KPI."""

    kpi_code: str | None  # None: a KPI input bylab does not map to a catalogue KPI yet
    role: str  # KPI_VALUE: the KPI's own value; KPI_INPUT: one input of it
    unit: str
    meaning: str


SIMULATED_OUTPUTS = {
    "travel_time_index": SimulatedOutput(
        TRAVEL_TIME_INDEX_KPI, KPI_VALUE, "ratio",
        "travel time of the simulated trips over their free-flow travel time"),
    "co2_kg": SimulatedOutput(
        GHG_KPI, KPI_INPUT, "kg",
        "CO₂ of the simulated cars in the simulated period: road traffic's part of the GHG "
        "inputs, not the per-capita annual KPI value"),
    "mean_delay_s": SimulatedOutput(None, KPI_INPUT, "s",
                                    "mean time lost per arrived trip against free flow"),
    "vehicle_km": SimulatedOutput(None, KPI_INPUT, "km",
                                  "distance driven by the simulated cars in the period"),
}


def simulated_kpi_inputs(indicators: dict[str, float]) -> list[dict[str, Any]]:
    """The run's outputs that are KPI values or inputs, as stored in its results."""
    return [{"variable": variable, "value": indicators[variable], "kpi_code": output.kpi_code,
             "role": output.role, "unit": output.unit, "label": SYNTHETIC_LABEL}
            for variable, output in SIMULATED_OUTPUTS.items() if variable in indicators]


def kpi_of(variable: str) -> dict[str, str | None]:
    """The U4SSC KPI a SUMO output is the value (or an input) of: its code, English name,
    role and page; None each when it maps to none."""
    output = SIMULATED_OUTPUTS.get(variable)
    if output is None or output.kpi_code is None:
        return {"kpi_code": None, "kpi_name": None, "kpi_role": None, "kpi_url": None}
    entry = kpi_show(output.kpi_code)
    return {"kpi_code": entry.kpi.code, "kpi_name": entry.kpi.name("en"),
            "kpi_role": output.role, "kpi_url": f"/indicators/{entry.slug}"}


@dataclass(frozen=True)
class SimulatedValue:
    """One simulated KPI value or input of one run, for the run's place."""

    run_id: str
    run_title: str
    organisation_id: str
    place_code: str | None
    year: int | None  # the scenario year the demand was derived for, when it was
    variable: str
    value: float
    kpi_code: str | None
    role: str
    unit: str
    meaning: str
    dataset_id: str | None
    label: str = SYNTHETIC_LABEL


def simulated_values(ctx: Context, kpi: str | None = None,
                     place: str | None = None) -> list[SimulatedValue]:
    """The simulated values of the succeeded runs the actor may see (their organisation's),
    newest run first; only those of KPI ``kpi`` (code or slug) and of place ``place`` when
    given."""
    from bylab.mobility.runs import run_list  # runs imports this module to store the values

    kpi = kpi_show(kpi).kpi.code if kpi else None
    wanted_place = place.strip().upper() if place else None
    values = []
    for run in run_list(ctx):
        if run.status != RunStatus.SUCCEEDED or (wanted_place and run.place_id != wanted_place):
            continue
        values += [value for value in _values_of(run) if kpi is None or value.kpi_code == kpi]
    return values


def _values_of(run: MobilityRun) -> list[SimulatedValue]:
    year = run.provenance.get("derived_from", {}).get("year")
    return [SimulatedValue(
        run_id=run.id, run_title=run.title, organisation_id=run.organisation_id,
        place_code=run.place_id, year=year, variable=stored["variable"],
        value=float(stored["value"]), kpi_code=stored["kpi_code"], role=stored["role"],
        unit=stored["unit"], meaning=SIMULATED_OUTPUTS[stored["variable"]].meaning,
        dataset_id=run.dataset_id, label=stored["label"])
        for stored in run.results.get("simulated_kpis", [])]
