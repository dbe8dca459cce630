"""Load the bundled demo region: places, organisations, demo logins and real datasets.

Loading is idempotent: every step skips what exists, and a marker file records a finished
load, so a second `bylab demo` starts at once on the data it loaded before.
"""

from __future__ import annotations

import hashlib
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Any

import yaml
from rich.console import Console
from rich.progress import BarColumn, DownloadColumn, Progress, TextColumn, TimeRemainingColumn
from sqlalchemy import select

from bylab.auth import actions as accounts
from bylab.auth.models import Organisation, OrganisationKind, Role, User
from bylab.catalog.metadata import DatasetMetadata
from bylab.catalog.models import Dataset
from bylab.catalog.publish import dataset_publish
from bylab.core import Bylab, Context
from bylab.indicators.actions import indicator_compute
from bylab.places.loading import places_load_bundled
from bylab.registry.seed import registry_seed
from bylab.sensors.demo import sensors_demo_load
from bylab.settings import Settings
from bylab.storage.tables import sql_string

DEMO_DIR = Path(__file__).parent
DATA_DIR = DEMO_DIR / "data"
CATALOG_FILE = DEMO_DIR / "catalog.yaml"
MARKER_NAME = "demo-loaded"
DEFAULT_REGION = "NO-15"  # Møre og Romsdal: Molde, Ålesund, Kristiansund


@dataclass(frozen=True)
class DemoLogin:
    username: str
    password: str


def demo_data_dir() -> Path:
    """Where `bylab demo` keeps its instance: a `demo` folder in the configured data dir."""
    return Settings().data_dir / "demo"


def demo_spec() -> dict[str, Any]:
    return yaml.safe_load(CATALOG_FILE.read_text(encoding="utf-8"))  # type: ignore[no-any-return]


# Bumped when demo_load gains a step, so an instance loaded before gets the new step (every
# step skips what exists).
LOAD_STEPS_VERSION = b"2: sensors"


def _marker_value() -> str:
    return hashlib.sha256(CATALOG_FILE.read_bytes() + LOAD_STEPS_VERSION).hexdigest()


def demo_is_loaded(bylab: Bylab) -> bool:
    marker = bylab.settings.data_dir / MARKER_NAME
    return marker.exists() and marker.read_text().strip() == _marker_value()


def demo_load(bylab: Bylab, progress: Console | None = None) -> bool:
    """Load the demo region into ``bylab``. Returns False when it was loaded before."""
    console = progress or Console(stderr=True, quiet=True)
    if demo_is_loaded(bylab):
        console.print("demo data already loaded: reusing it")
        return False
    ctx = bylab.system_context()
    spec = demo_spec()
    console.print("loading places and boundaries…")
    places_load_bundled(ctx, progress=lambda message: console.print(f"  {message}"))
    console.print("creating organisations and demo logins…")
    _load_organisations(ctx, spec["organisations"])
    _load_users(ctx, spec["users"])
    registry_seed(ctx)
    console.print("loading sensor series…")
    sensors_demo_load(ctx, DATA_DIR / "sensors", lambda message: console.print(f"  {message}"))
    _load_datasets(ctx, spec["datasets"], console)
    console.print("computing indicators…")
    indicator_compute(ctx)
    (bylab.settings.data_dir / MARKER_NAME).write_text(_marker_value())
    console.print("demo data loaded")
    return True


def demo_logins() -> list[DemoLogin]:
    return [DemoLogin(user["username"], user["password"]) for user in demo_spec()["users"]]


def _load_organisations(ctx: Context, organisations: list[dict[str, Any]]) -> None:
    with ctx.db.session() as session:
        existing = set(session.scalars(select(Organisation.name)))
    for org in organisations:
        if org["name"] not in existing:
            accounts.organisation_create(
                ctx, org["name"], org["title"], OrganisationKind(org["kind"]),
                description=org.get("description", ""), place_id=org.get("place"),
                website=org.get("website"),
            )
    for org in organisations:
        for member in org.get("members", []):
            accounts.network_add_member(ctx, org["name"], member)


def _load_users(ctx: Context, users: list[dict[str, Any]]) -> None:
    with ctx.db.session() as session:
        existing = set(session.scalars(select(User.username)))
    for user in users:
        if user["username"] not in existing:
            accounts.user_create(ctx, user["username"], user["password"],
                                 full_name=user.get("full_name", ""),
                                 is_sysadmin=user.get("sysadmin", False))
        for organisation, role in user.get("roles", {}).items():
            accounts.membership_set(ctx, user["username"], organisation, Role(role))


def _load_datasets(ctx: Context, datasets: list[dict[str, Any]], console: Console) -> None:
    with ctx.db.session() as session:
        existing = set(session.scalars(select(Dataset.name)))
    for entry in datasets:
        if entry["name"] in existing:
            continue
        console.print(f"publishing {entry['name']}…")
        with Progress(TextColumn("  {task.description}"), BarColumn(), DownloadColumn(),
                      TimeRemainingColumn(), console=console, transient=True) as bar:
            task = bar.add_task(entry["file"], total=None)

            def report(done: int, total: int | None, _unit: str) -> None:
                bar.update(task, completed=done, total=total)

            with _source_file(ctx, entry) as source:
                dataset_publish(ctx, _metadata(entry), source, source.name, report)


def _metadata(entry: dict[str, Any]) -> DatasetMetadata:
    temporal: list[date] = entry.get("temporal") or [None, None]
    return DatasetMetadata(
        name=entry["name"],
        title=entry["title"],
        description=entry.get("description", {}),
        organisation=entry["publisher"],
        visibility=entry.get("visibility", "public"),
        shared_with=entry.get("shared_with", []),
        themes=entry.get("themes", []),
        keywords=entry.get("keywords", []),
        licence_id=entry.get("licence", "CC-BY-4.0"),
        spatial=entry.get("spatial", []),
        temporal_start=temporal[0],
        temporal_end=temporal[1],
        frequency=entry.get("frequency"),
        landing_page=entry.get("landing_page"),
        source_note=entry.get("source", ""),
    )


@contextmanager
def _source_file(ctx: Context, entry: dict[str, Any]) -> Iterator[Path]:
    """The bundled file, or a filtered CSV copy of it when the entry has ``rows_where``."""
    path = DATA_DIR / entry["file"]
    rows_where: str | None = entry.get("rows_where")
    if not rows_where:
        yield path
        return
    with tempfile.TemporaryDirectory() as folder:
        subset = Path(folder) / (path.name.split(".")[0] + ".csv")
        ctx.tables.query(
            f"COPY (SELECT * FROM read_csv({sql_string(str(path))}, header=true, "
            f"all_varchar=true) WHERE {rows_where}) TO {sql_string(str(subset))} "
            "(HEADER, DELIMITER ',')"
        )
        yield subset
