"""Where Eclipse SUMO is and how its programs and Python tools are run.

SUMO comes from the ``eclipse-sumo`` PyPI package: its binaries are under ``sumo.SUMO_HOME``
and its Python tools (randomTrips, routeSampler) under ``SUMO_HOME/tools``. Every program runs
as a child process with ``SUMO_HOME`` set, so the tools find the binaries they call in turn."""

from __future__ import annotations

import os
import subprocess
import sys
from functools import cache
from pathlib import Path

from bylab.errors import BylabError
from bylab.web.i18n import N_  # SumoFailed is no extraction keyword


class SumoFailed(BylabError):
    """A SUMO program or tool ended with an error (its last output lines are in the message)."""

    status_code = 500


def sumo_home() -> Path:
    try:
        import sumo
    except ImportError:  # pragma: no cover - the package is a dependency
        raise BylabError("Eclipse SUMO is not installed: pip install eclipse-sumo") from None
    return Path(sumo.SUMO_HOME)


def binary(name: str) -> Path:
    """The path of a SUMO program (sumo, netgenerate, netconvert, duarouter, ...)."""
    return sumo_home() / "bin" / name


def tool(name: str) -> Path:
    """The path of a SUMO Python tool, e.g. ``randomTrips.py``."""
    return sumo_home() / "tools" / name


def sumo_environment() -> dict[str, str]:
    return {**os.environ, "SUMO_HOME": str(sumo_home())}


@cache
def sumo_version() -> str:
    """The version SUMO reports, e.g. ``Eclipse SUMO sumo 1.28.0``, for provenance."""
    first_line = run_program([str(binary("sumo")), "--version"]).splitlines()[0]
    return first_line.strip()


def run_program(command: list[str], cwd: Path | None = None, name: str | None = None) -> str:
    """Run a SUMO program and return its standard output; raise SumoFailed on an error,
    naming the program (or ``name``) and quoting its last lines of output."""
    result = subprocess.run(command, cwd=cwd, env=sumo_environment(), capture_output=True,
                            text=True, check=False)
    if result.returncode != 0:
        tail = "\n".join((result.stderr or result.stdout).strip().splitlines()[-5:])
        raise SumoFailed(N_("{program} failed: {tail}"), program=name or Path(command[0]).name,
                         tail=tail)
    return result.stdout


def run_tool(name: str, arguments: list[str], cwd: Path | None = None) -> str:
    """Run a SUMO Python tool with this interpreter (its sumolib and scipy)."""
    return run_program([sys.executable, str(tool(name)), *arguments], cwd=cwd, name=name)
