"""Counts for calibration from SensorThings datastreams: hourly sums in local time, only
datastreams the reader may see, and a clear error for unknown ones."""

from __future__ import annotations

import json
from datetime import date
from pathlib import Path

import pytest
from typer.testing import CliRunner

from bylab.auth import actions as accounts
from bylab.auth.models import Role
from bylab.core import Bylab
from bylab.errors import InvalidInput, NotFound
from bylab.mobility.calibration import Count, counts_read
from bylab.mobility.cli import app as mobility_cli
from bylab.mobility.counters import counts_from_sensors, counts_write
from bylab.mobility.runs import run_list
from bylab.sensors.actions import Unit, datastream_create, observations_import, thing_create
from bylab.sensors.models import SensorVisibility
from tests.mobility.conftest import context_of

VEHICLES = Unit("vehicles", "veh")


@pytest.fixture
def counters(embedded: Bylab, tmp_path: Path) -> Bylab:
    """Two SYNTHETIC counters of Molde (one private) with 15-minute counts on 4 May 2026."""
    ctx = embedded.system_context()
    for name in ("molde", "alesund"):
        accounts.organisation_create(ctx, name, name.title())
    accounts.user_create(ctx, "ola", "correct horse battery")
    accounts.membership_set(ctx, "ola", "alesund", Role.EDITOR)
    for thing, visibility in (("counter-a", SensorVisibility.PUBLIC),
                              ("counter-b", SensorVisibility.PRIVATE)):
        thing_create(ctx, thing, organisation="molde", visibility=visibility)
        datastream_create(ctx, thing, f"{thing}/vehicles", "Vehicles",
                          observed_property="vehicle count", unit=VEHICLES, sensor="loop")
    observations = tmp_path / "observations.csv"
    lines = ["datastream,phenomenonTime,result"]
    # 07:00-08:00 in Oslo on 4 May 2026 (summer time) is 05:00-06:00 UTC
    lines += [f"counter-a/vehicles,2026-05-04T05:{minute:02d}:00Z,5" for minute in (0, 15, 30, 45)]
    lines += ["counter-a/vehicles,2026-05-04T04:59:00Z,3",  # 06:59 local: hour 6
              "counter-a/vehicles,2026-05-03T21:59:00Z,9",  # 23:59 local on the 3rd: left out
              "counter-b/vehicles,2026-05-04T06:10:00Z,7"]
    observations.write_text("\n".join(lines) + "\n")
    observations_import(ctx, observations)
    return embedded


def test_hourly_counts_in_local_time(counters: Bylab, tmp_path: Path) -> None:
    ctx = counters.system_context()
    counts = counts_from_sensors(ctx, {"counter-a/vehicles": "A0A1",
                                       "counter-b/vehicles": "B0B1"}, date(2026, 5, 4))
    assert counts == [Count("A0A1", 6, 3), Count("A0A1", 7, 20), Count("B0B1", 8, 7)]
    written = counts_write(counts, tmp_path / "counts.csv")
    assert counts_read(written, {"A0A1", "B0B1"}) == counts


def test_only_visible_datastreams_are_read(counters: Bylab) -> None:
    ola = context_of(counters, _token(counters, "ola"))
    assert counts_from_sensors(ola, {"counter-a/vehicles": "A0A1"}, date(2026, 5, 4))
    with pytest.raises(NotFound, match="counter-b/vehicles"):  # Molde's private counter
        counts_from_sensors(ola, {"counter-b/vehicles": "B0B1"}, date(2026, 5, 4))


def test_no_observations_and_bad_time_zone(counters: Bylab) -> None:
    ctx = counters.system_context()
    with pytest.raises(InvalidInput, match="no observations on 2026-06-01"):
        counts_from_sensors(ctx, {"counter-a/vehicles": "A0A1"}, date(2026, 6, 1))
    with pytest.raises(InvalidInput) as raised:
        counts_from_sensors(ctx, {"counter-a/vehicles": "A0A1"}, date(2026, 5, 4), "Mars/Base")
    assert raised.value.field == "timezone"


def _latest_run(bylab: Bylab) -> str:
    return run_list(bylab.system_context())[0].id


def _token(bylab: Bylab, username: str) -> str:
    return accounts.token_create(bylab.system_context(), "tests", username)


def test_cli_calibrates_against_sensorthings_counts(counters: Bylab,
                                                    monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("BYLAB_DATABASE_URL", raising=False)
    monkeypatch.setenv("BYLAB_DATA_DIR", str(counters.settings.data_dir))
    small = ["--organisation", "molde", "--population", "300", "--size", "3",
             "--edge-length", "150", "--no-publish"]
    result = CliRunner().invoke(mobility_cli, [
        "calibrate", *small, "--sensor", "counter-a/vehicles=A0A1", "--day", "2026-05-04"])
    assert result.exit_code == 0, result.output
    # only hour 7 lies in the simulated period (07:00-08:00): one counter, 20 vehicles
    [counter] = [line.split("\t") for line in result.stdout.splitlines()
                 if line.startswith("A0A1\t")]
    assert counter[:3] == ["A0A1", "7", "20"]
    shown = json.loads(CliRunner().invoke(mobility_cli, ["runs", _latest_run(counters)]).stdout)
    assert shown["results"]["calibration"]["counts_outside_period"] == 1  # hour 6
    assert shown["provenance"]["counts"]["file"] == (
        "SensorThings counter-a/vehicles on 2026-05-04 (Europe/Oslo)")
    missing_day = CliRunner().invoke(mobility_cli, [
        "calibrate", *small, "--sensor", "counter-a/vehicles=A0A1"])
    assert isinstance(missing_day.exception, InvalidInput) and "--day" in str(
        missing_day.exception)
