"""Small SUMO cases that run in about a second: a 3 × 3 grid and a few dozen cars."""

from __future__ import annotations

import csv
import os
import shutil
import time
from pathlib import Path

import pytest

from bylab.auth import actions as accounts
from bylab.auth.actions import actor_from_token
from bylab.core import Bylab, Context
from bylab.mobility.demand import DemandInput
from bylab.mobility.models import FINISHED, MobilityRun
from bylab.mobility.network import NetworkSpec
from bylab.mobility.runs import RunRequest, run_get

DATA = Path(__file__).parent / "data"
SMALL_NETWORK = NetworkSpec(size=3, edge_length_m=150)
SMALL_DEMAND = DemandInput(population=300)  # 300 × 3 trips × 0.6 car × 0.1 in the hour = 54


def small_request(**changes: object) -> RunRequest:
    values: dict[str, object] = {"organisation": "molde", "network": SMALL_NETWORK,
                                 "demand": SMALL_DEMAND, "seed": 1}
    return RunRequest.model_validate({**values, **changes})


def system_with_molde(bylab: Bylab) -> Context:
    """The system context of an instance with one organisation, Molde."""
    ctx = bylab.system_context()
    accounts.organisation_create(ctx, "molde", "Molde kommune")
    return ctx


def context_of(bylab: Bylab, token: str) -> Context:
    return bylab.context(actor_from_token(bylab.context(), token))


def wait_until_finished(ctx: Context, run_id: str, timeout_s: float = 60) -> MobilityRun:
    deadline = time.monotonic() + timeout_s
    while (run := run_get(ctx, run_id)).status not in FINISHED:
        assert time.monotonic() < deadline, f"run still {run.status} ({run.phase})"
        time.sleep(0.1)
    return run


def sumo_children() -> list[int]:
    """Process ids of SUMO programs this test process started and that still run."""
    pids = [int(pid) for children in Path(f"/proc/{os.getpid()}/task").glob("*/children")
            for pid in children.read_text().split()]
    return [pid for pid in pids if _command_name(pid) == "sumo"]


def _command_name(pid: int) -> str:
    try:
        return Path(f"/proc/{pid}/comm").read_text().strip()
    except FileNotFoundError:  # ended meanwhile
        return ""


def write_counts(path: Path, rows: list[tuple[str, int, int]]) -> Path:
    with path.open("w", newline="") as target:
        writer = csv.writer(target)
        writer.writerow(["edge_id", "hour", "count"])
        writer.writerows(rows)
    return path


@pytest.fixture
def synthetic_counts(tmp_path: Path) -> Path:
    """SYNTHETIC hourly counts on every other edge of the small grid (see data/README.md),
    copied to ``counts.csv``."""
    return Path(shutil.copyfile(DATA / "synthetic_counts_grid3.csv", tmp_path / "counts.csv"))
