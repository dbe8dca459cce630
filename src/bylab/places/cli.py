"""`bylab places ...`: load boundaries, import KLASS changes, search and show places."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from bylab.places.history import place_history
from bylab.places.klass import places_import_klass
from bylab.places.loading import places_load_bundled
from bylab.places.models import PlaceLevel
from bylab.places.queries import place_children, place_search, place_show

app = typer.Typer(no_args_is_help=True)


def _system_context():  # noqa: ANN202
    from bylab.cli import open_bylab

    return open_bylab().system_context()


def _say(message: str) -> None:
    typer.echo(message, err=True)


@app.command("load")
def load() -> None:
    """Load (or reload) the bundled boundaries of Norway, Sweden and Poland."""
    report = places_load_bundled(_system_context(), progress=_say)
    typer.echo(report.summary())


@app.command("import-klass")
def import_klass(
    file: Annotated[Path, typer.Argument(help="A KLASS change table (JSON or CSV).")],
) -> None:
    """Import official changes from Statistics Norway's KLASS (classification 131 or 104)."""
    typer.echo(places_import_klass(_system_context(), file).summary())


@app.command("search")
def search(
    text: str,
    country: Annotated[str | None, typer.Option(help="NO, SE or PL.")] = None,
    level: Annotated[PlaceLevel | None, typer.Option()] = None,
    limit: int = 50,
) -> None:
    """Find places by name or code (accents ignored)."""
    for place in place_search(_system_context(), text, country, level, limit=limit):
        validity = f"{place.valid_from or '…'} – {place.valid_to or ''}".strip()
        typer.echo(f"{place.id}\t{place.name}\t{place.level}\t{validity}")


@app.command("show")
def show(place_id: str) -> None:
    """Show a place with its codes, area and history."""
    ctx = _system_context()
    place = place_show(ctx, place_id)
    typer.echo(f"{place.id}  {place.name}  ({place.level}, {place.code_scheme} {place.code})")
    typer.echo(f"  valid: {place.valid_from or 'unknown'} – {place.valid_to or 'now'}")
    if place.parent_id:
        typer.echo(f"  part of: {place.parent_id}")
    if place.area_km2 is not None:
        typer.echo(f"  area: {place.area_km2:,.1f} km² (approximate)")
    history = place_history(ctx, place_id)
    for heading, steps in (("predecessors", history.predecessors),
                           ("successors", history.successors)):
        for step in steps:
            share = f" {step.area_share:.0%}" if step.area_share is not None else ""
            typer.echo(f"  {heading[:-1]}: {step.effective} {step.from_place.id} "
                       f"{step.from_place.name} -> {step.to_place.id} {step.to_place.name} "
                       f"[{step.kind}{share}, {step.source}]")
    children = place_children(ctx, place_id)
    if children:
        typer.echo(f"  parts: {len(children)}")
