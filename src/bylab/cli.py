"""The `bylab` command: a thin layer over the actions. Errors are mapped to messages here."""

from __future__ import annotations

import errno
import json
import os
import socket
import sys
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console

from bylab.core import Bylab
from bylab.errors import BylabError
from bylab.settings import Settings, settings_reference_markdown

app = typer.Typer(help="bylab: city data, indicators and shared learning for smart cities.",
                  no_args_is_help=True, pretty_exceptions_enable=False)
console = Console(stderr=True)


def open_bylab(data_dir: Path | None = None) -> Bylab:
    """The configured instance, schema up to date."""
    settings = Settings(data_dir=data_dir) if data_dir else Settings()
    bylab = Bylab(settings)
    bylab.setup()
    return bylab


def check_port_free(host: str, port: int) -> None:
    with socket.socket(socket.AF_INET6 if ":" in host else socket.AF_INET) as probe:
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            probe.bind((host, port))
        except OSError as error:
            if error.errno == errno.EADDRINUSE:
                raise BylabError(
                    "port {port} on {host} is already in use (another bylab?). "
                    "Stop it or choose another port with --port.", field="port",
                    port=port, host=host,
                ) from None
            raise


def default_workers() -> int:
    """Server processes when none are asked for: one per core, at most two (the catalogue's
    reads are short; more processes mostly add memory and database connections)."""
    return min(2, os.cpu_count() or 1)


def settings_environment(settings: Settings) -> dict[str, str]:
    """The settings as BYLAB_* variables, so worker processes build the same instance.
    Lists and mappings go as JSON, the form pydantic-settings reads complex values in."""
    return {f"BYLAB_{name.upper()}": _environment_value(value)
            for name, value in settings.model_dump(mode="json").items() if value is not None}


def _environment_value(value: object) -> str:
    return json.dumps(value) if isinstance(value, (list, dict)) else str(value)


def run_server(bylab: Bylab, host: str, port: int, workers: int = 1) -> None:
    """Serve ``bylab``: in this process with one worker; otherwise ``workers`` processes,
    each building its own instance from the settings (passed on as BYLAB_* variables)."""
    import uvicorn

    from bylab.app import create_app

    check_port_free(host, port)
    console.print(f"bylab is serving on [bold]http://{host}:{port}/[/bold] with {workers} "
                  f"worker{'s' if workers > 1 else ''} (Ctrl+C stops it)")
    options = {"host": host, "port": port, "log_level": "warning", "access_log": False}
    if workers <= 1:
        uvicorn.run(create_app(bylab), **options)  # type: ignore[arg-type]
        return
    bylab.settings.effective_secret_key()  # made once here, not raced by the workers
    os.environ.update(settings_environment(bylab.settings))
    bylab.close()
    uvicorn.run("bylab.app:create_app_from_environment", factory=True, workers=workers,
                **options)  # type: ignore[arg-type]


WorkersOption = Annotated[int | None, typer.Option(
    min=1, help="Server processes (default: one per CPU core, at most 2).")]


@app.command()
def serve(
    host: Annotated[str | None, typer.Option(help="Address to listen on.")] = None,
    port: Annotated[int | None, typer.Option(help="Port to listen on.")] = None,
    workers: WorkersOption = None,
) -> None:
    """Serve the configured instance (settings from BYLAB_* variables or the settings file).

    With more than one worker (the default on a machine with two or more cores) each worker
    is its own process with its own database connections and caches."""
    bylab = open_bylab()
    run_server(bylab, host or bylab.settings.host, port or bylab.settings.port,
               workers or default_workers())


@app.command()
def demo(
    host: Annotated[str, typer.Option(help="Address to listen on.")] = "127.0.0.1",
    port: Annotated[int, typer.Option(help="Port to listen on.")] = 8000,
    load_only: Annotated[bool, typer.Option(help="Load the demo data, do not serve.")] = False,
    workers: WorkersOption = None,
) -> None:
    """Load the bundled real-data demo region (once) and serve it."""
    from bylab.demo.loader import demo_data_dir, demo_load

    check_port_free(host, port) if not load_only else None
    bylab = open_bylab(demo_data_dir())
    demo_load(bylab, progress=console)
    if not load_only:
        run_server(bylab, host, port, workers or default_workers())


@app.command("settings-doc")
def settings_doc() -> None:
    """Print the settings reference (Markdown)."""
    sys.stdout.write(settings_reference_markdown())


@app.command("db-upgrade")
def db_upgrade() -> None:
    """Create or migrate the database schema."""
    open_bylab()
    console.print("database schema is up to date")


def _register_subcommands() -> None:
    from bylab.auth.cli import app as auth_app
    from bylab.catalog.cli import app as dataset_app
    from bylab.connectors.cli import app as connectors_app
    from bylab.indicators.cli import app as indicators_app
    from bylab.places.cli import app as places_app
    from bylab.mobility.cli import app as mobility_app
    from bylab.registry.cli import app as registry_app
    from bylab.scenarios.cli import app as scenarios_app
    from bylab.sensors.cli import app as sensors_app

    app.add_typer(auth_app, name="account", help="Organisations, users, roles and API tokens.")
    app.add_typer(dataset_app, name="dataset", help="Publish and inspect datasets.")
    app.add_typer(places_app, name="places", help="Places, boundaries and code changes.")
    app.add_typer(indicators_app, name="indicators", help="U4SSC KPIs: compute, show, export.")
    app.add_typer(connectors_app, name="harvest",
                  help="Fetch official statistics (PxWeb, JSON-stat) into datasets.")
    app.add_typer(registry_app, name="registry",
                  help="Shared learning: projects, challenges, solutions.")
    app.add_typer(scenarios_app, name="scenario",
                  help="What-if scenarios: project indicators forward with uncertainty.")
    app.add_typer(sensors_app, name="sensors",
                  help="Sensor time series: load, MQTT ingestion, SensorThings.")
    app.add_typer(mobility_app, name="mobility", help="Mobility simulation with Eclipse SUMO.")


_register_subcommands()


def main() -> None:
    try:
        app()
    except BylabError as error:
        console.print(f"[red]error:[/red] {error}")
        sys.exit(1)


if __name__ == "__main__":
    main()
