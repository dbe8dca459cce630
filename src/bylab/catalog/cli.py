"""`bylab dataset ...`: publish files, add versions, list, show and export datasets.

Runs as the system actor on the configured data dir; safe while `bylab serve` runs on it
(the metadata database is in WAL mode and tables are written to temporary files first).
"""

from __future__ import annotations

import shutil
import sys
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.progress import BarColumn, DownloadColumn, Progress, TextColumn, TimeRemainingColumn
from rich.table import Table

from bylab.catalog import export, publish, queries
from bylab.catalog.metadata import DatasetMetadata
from bylab.catalog.models import Dataset, DatasetVersion, Visibility
from bylab.core import Context
from bylab.errors import Conflict

app = typer.Typer(no_args_is_help=True)
console = Console(stderr=True)
# Below this size a progress bar would only flicker.
PROGRESS_MIN_BYTES = 5 * 1024 * 1024


def _system_context() -> Context:
    from bylab.cli import open_bylab

    return open_bylab().system_context()


def _with_progress(path: Path, action):  # noqa: ANN001, ANN202
    """Run ``action(progress_callback)`` with a progress bar for large files."""
    if path.stat().st_size < PROGRESS_MIN_BYTES:
        return action(None)
    with Progress(TextColumn("{task.description}"), BarColumn(), DownloadColumn(),
                  TimeRemainingColumn(), console=console, transient=True) as bar:
        task = bar.add_task(f"reading {path.name}", total=path.stat().st_size)

        def report(done: int, total: int | None, _unit: str) -> None:
            bar.update(task, completed=done, total=total)

        return action(report)


def _print_version(dataset_name: str, version: DatasetVersion) -> None:
    typer.echo(f"{dataset_name} version {version.version}: {version.row_count:,} rows, "
               f"{len(version.columns)} columns ({version.source_format})")
    for column in version.columns:
        if "warning" in column:
            console.print(f"[yellow]warning:[/yellow] column '{column['name']}' "
                          f"{column['warning']}")


@app.command("add")
def add(
    file: Annotated[Path, typer.Argument(exists=True, dir_okay=False, readable=True)],
    name: Annotated[str, typer.Option(help="URL name: lowercase letters, digits, - and _")],
    title: Annotated[str | None, typer.Option(help="Title (needed for a new dataset)")] = None,
    org: Annotated[str | None, typer.Option(help="Publishing organisation (name)")] = None,
    visibility: Annotated[Visibility, typer.Option()] = Visibility.PRIVATE,
    share_with: Annotated[list[str] | None, typer.Option(help="Organisation or network")] = None,
    description: Annotated[str, typer.Option()] = "",
    theme: Annotated[list[str] | None, typer.Option(help="EU data theme, e.g. SOCI")] = None,
    keyword: Annotated[list[str] | None, typer.Option()] = None,
    licence: Annotated[str, typer.Option(help="Licence id, e.g. CC-BY-4.0, NLOD-2.0")] = (
        "CC-BY-4.0"),
    place: Annotated[list[str] | None, typer.Option(help="Place id, e.g. NO-1506")] = None,
    language: Annotated[str, typer.Option(help="Language of title/description")] = "en",
    sheet: Annotated[str | None, typer.Option(help="Excel sheet (default: first)")] = None,
    new_version: Annotated[bool, typer.Option(
        "--new-version", help="The dataset exists: add the file as its next version")] = False,
    note: Annotated[str, typer.Option(help="What changed (with --new-version)")] = "",
) -> None:
    """Publish FILE (CSV/TSV/TXT, .csv.gz, .xlsx, GeoJSON, Parquet) as a dataset."""
    ctx = _system_context()
    if new_version:
        version = _with_progress(file, lambda progress: publish.dataset_add_version(
            ctx, name, file, file.name, note, progress, sheet))
        _print_version(name, version)
        return
    if not title or not org:
        raise typer.BadParameter("a new dataset needs --title and --org "
                                 "(or use --new-version to add to an existing one)")
    metadata = DatasetMetadata(
        name=name, title={language: title},
        description={language: description} if description else {},
        organisation=org, visibility=visibility, shared_with=share_with or [],
        themes=theme or [], keywords=keyword or [], licence_id=licence, spatial=place or [],
    )
    try:
        dataset = _with_progress(file, lambda progress: publish.dataset_publish(
            ctx, metadata, file, file.name, progress, sheet))
    except Conflict as error:
        raise Conflict("{problem}; add --new-version to store the file as its next version",
                       field=error.field, problem=error.message) from None
    _print_version(dataset.name, dataset.versions[-1])


def _title(dataset: Dataset) -> str:
    return next(iter(dataset.title.values()), "")


@app.command("list")
def list_datasets(
    query: Annotated[str, typer.Argument(help="Words to search for")] = "",
    limit: Annotated[int, typer.Option()] = 100,
) -> None:
    """List datasets (newest first)."""
    page = queries.dataset_search(_system_context(), queries.DatasetQuery(text=query,
                                                                          rows=limit))
    table = Table("name", "title", "organisation", "visibility", "version", "modified")
    for dataset in page.datasets:
        owner = page.organisations.get(dataset.organisation_id)
        table.add_row(dataset.name, _title(dataset), owner.name if owner else "",
                      dataset.visibility, str(dataset.latest_version),
                      dataset.modified.strftime("%Y-%m-%d %H:%M"))
    Console().print(table)
    console.print(f"{len(page.datasets)} of {page.count} datasets")


@app.command("show")
def show(name: str) -> None:
    """Show a dataset's metadata, versions and columns."""
    dataset = queries.dataset_show(_system_context(), name)
    out = Console()
    out.print(f"[bold]{dataset.name}[/bold]: {_title(dataset)}")
    out.print(f"visibility {dataset.visibility}, licence {dataset.licence_id}, "
              f"themes {', '.join(dataset.themes) or '-'}, "
              f"places {', '.join(dataset.spatial) or '-'}")
    versions = Table("version", "created", "file", "format", "rows", "stored bytes", "note")
    for version in dataset.versions:
        versions.add_row(str(version.version), version.created.strftime("%Y-%m-%d %H:%M"),
                         version.source_filename, version.source_format,
                         f"{version.row_count:,}", f"{version.byte_size:,}", version.note)
    out.print(versions)
    if dataset.versions:
        columns = Table("column", "type", "nullable", "examples")
        for column in dataset.versions[-1].columns:
            examples = ", ".join(str(example) for example in column.get("examples", []))
            columns.add_row(str(column["name"]), str(column["type"]),
                            "yes" if column.get("nullable") else "no", examples[:60])
        out.print(columns)


@app.command("export")
def export_dataset(
    name: str,
    fmt: Annotated[str, typer.Option("--format", help="csv, parquet, json or geojson")] = "csv",
    output: Annotated[Path | None, typer.Option("-o", "--output",
                                                help="File to write (default: stdout)")] = None,
    version: Annotated[int | None, typer.Option(help="Version (default: latest)")] = None,
) -> None:
    """Write a dataset's data in a format."""
    exported = export.dataset_export(_system_context(), name, fmt, version)
    if output is None:
        with open(exported.path, "rb") as source:
            shutil.copyfileobj(source, sys.stdout.buffer)
        return
    shutil.copyfile(exported.path, output)
    console.print(f"wrote {output}")
