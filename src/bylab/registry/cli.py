"""`bylab registry ...`: load the seed, search projects, challenges and solutions, and record
relations between actors. Commands that write many records compute their vectors before they
return, with progress, so no search waits for them."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn

from bylab.core import Context
from bylab.registry.embeddings import embed_pending, embeddings_active
from bylab.registry.index import reindex
from bylab.registry.matching import Match, challenge_matches, project_similar
from bylab.registry.relations import relation_add, relation_remove, relations_of
from bylab.registry.removal import registry_files_prune
from bylab.registry.search import registry_search
from bylab.registry.seed import registry_seed
from bylab.registry.transfer import registry_export, registry_import

app = typer.Typer(no_args_is_help=True)
console = Console(stderr=True)  # progress bars, apart from the output


def _open_bylab():  # noqa: ANN202
    from bylab.cli import open_bylab

    return open_bylab()


def _progress_bar() -> Progress:
    """A bar on the terminal (none in logs and pipes: rich would print its last state)."""
    return Progress(TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(),
                    console=console, transient=True, disable=not console.is_terminal)


def _embed_pending(ctx: Context) -> int:
    """Compute every pending vector with a progress bar (nothing when embeddings are off)."""
    if not embeddings_active(ctx):
        return 0
    with _progress_bar() as bar:
        task = bar.add_task("embedding records", total=None)
        return embed_pending(ctx, progress=lambda done, total: bar.update(
            task, completed=done, total=total))


@app.command("seed")
def seed() -> None:
    """Load the real initiatives from the public articles (running it again changes nothing),
    and embed them when embeddings are on."""
    with _progress_bar() as bar:
        task = bar.add_task("loading the seed", total=None)
        report = registry_seed(_open_bylab().system_context(), progress=lambda done, total:
                               bar.update(task, completed=done, total=total))
    typer.echo(report.summary())


@app.command("embed")
def embed() -> None:
    """Compute every pending sentence embedding (e.g. after an upgrade, or for records a
    stopped server had not embedded yet); nothing to do when embeddings are off."""
    ctx = _open_bylab().system_context()
    if not embeddings_active(ctx):
        typer.echo("embeddings are off or unavailable: nothing to embed")
        return
    typer.echo(f"embedded {_embed_pending(ctx)} records")


@app.command("search")
def search(
    text: Annotated[str, typer.Argument(help="Words in English, Norwegian, Swedish or Polish.")],
    lang: Annotated[str | None, typer.Option(help="The query's language (en, nb, sv, pl).")] = None,
    type: Annotated[str | None, typer.Option(help="project, challenge or solution.")] = None,
) -> None:
    """Search the registry; each hit says why it matched."""
    hits = registry_search(_open_bylab().context(), text, lang, type)  # type: ignore[arg-type]
    if not hits:
        typer.echo("no matches")
    for hit in hits:
        typer.echo(f"{hit.score:5.2f}  {hit.type:9}  {hit.name}  {hit.title}  [{hit.reason}]")


def _print_matches(matches: list[Match]) -> None:
    if not matches:
        typer.echo("no matches")
    for match in matches:
        typer.echo(f"{match.score:5.2f}  {match.type:8}  {match.name}  {match.title}  "
                   f"({match.organisation})")
        for reason in match.reasons:
            typer.echo(f"         - {reason.text}")


@app.command("matches")
def matches(
    challenge: Annotated[str, typer.Argument(help="The challenge's name or id.")],
    lang: Annotated[str | None, typer.Option(help="Language of titles (en, nb, sv, pl).")] = None,
    limit: Annotated[int, typer.Option(help="At most this many matches.")] = 20,
) -> None:
    """Projects, solutions and actors elsewhere that fit a challenge, with the reasons."""
    _print_matches(challenge_matches(_open_bylab().context(), challenge, lang, limit))


@app.command("similar")
def similar(
    project: Annotated[str, typer.Argument(help="The project's name or id.")],
    lang: Annotated[str | None, typer.Option(help="Language of titles (en, nb, sv, pl).")] = None,
    limit: Annotated[int, typer.Option(help="At most this many matches.")] = 20,
) -> None:
    """Who else does this: projects, solutions and actors elsewhere like a project."""
    _print_matches(project_similar(_open_bylab().context(), project, lang, limit))


@app.command("export")
def export(
    type: Annotated[str, typer.Option(
        help="project, challenge, solution or relation.")] = "project",
    format: Annotated[str, typer.Option(help="csv or json.")] = "json",
) -> None:
    """Print every record of one type as CSV or JSON (the import's layout)."""
    typer.echo(registry_export(_open_bylab().system_context(), type, format),  # type: ignore[arg-type]
               nl=False)


@app.command("import")
def import_(
    path: Annotated[Path, typer.Argument(help="A .csv or .json file.", exists=True,
                                         dir_okay=False)],
    type: Annotated[str, typer.Option(
        help="project, challenge, solution or relation.")] = "project",
) -> None:
    """Create records from a file, all or none (as the system actor); existing names are
    skipped. The new records are embedded before it returns when embeddings are on."""
    format = "csv" if path.suffix.lower() == ".csv" else "json"
    ctx = _open_bylab().system_context()
    with _progress_bar() as bar:
        task = bar.add_task(f"importing {path.name}", total=None)
        report = registry_import(
            ctx, type, path.read_text(encoding="utf-8-sig"),
            format, path.name,  # type: ignore[arg-type]
            progress=lambda done, total: bar.update(task, completed=done, total=total))
    _embed_pending(ctx)
    typer.echo(report.summary())


@app.command("reindex")
def reindex_command() -> None:
    """Rebuild the search index after a change to the taxonomy (an empty index fills itself
    at the first search), and embed every new or changed text when embeddings are on."""
    ctx = _open_bylab().system_context()
    count = reindex(ctx)
    _embed_pending(ctx)
    typer.echo(f"indexed {count} records")


@app.command("prune-files")
def prune_files() -> None:
    """Remove the document files of projects deleted outside bylab (e.g. with SQL)."""
    gone = registry_files_prune(_open_bylab().system_context())
    typer.echo(f"removed the files of {len(gone)} deleted projects")


_KINDS = "member-of, partner-in, supplier-to, owned-by or funded-by"


@app.command("relate")
def relate(
    actor: Annotated[str, typer.Argument(help="The organisation the relation is of.")],
    kind: Annotated[str, typer.Argument(help=f"{_KINDS}.")],
    other: Annotated[str, typer.Argument(help="The organisation it is related to.")],
    note: Annotated[str, typer.Option(help="A short note, e.g. since when.")] = "",
) -> None:
    """Record that ACTOR is KIND OTHER (e.g. `relate acme supplier-to molde`)."""
    typer.echo(relation_add(_open_bylab().system_context(), actor, kind, other, note).text)


@app.command("unrelate")
def unrelate(
    actor: Annotated[str, typer.Argument(help="The organisation the relation is of.")],
    kind: Annotated[str, typer.Argument(help=f"{_KINDS}.")],
    other: Annotated[str, typer.Argument(help="The organisation it is related to.")],
) -> None:
    """Remove the relation ACTOR KIND OTHER."""
    relation_remove(_open_bylab().system_context(), actor, kind, other)
    typer.echo("removed")


@app.command("relations")
def relations(
    actor: Annotated[str, typer.Argument(help="An organisation's name or id.")],
) -> None:
    """The actor's relations to other actors, both ways."""
    views = relations_of(_open_bylab().context(), actor)
    if not views:
        typer.echo("no relations")
    for view in views:
        note = f"  ({view.note})" if view.note else ""
        typer.echo(f"{view.subject.name} {view.kind.label} {view.object.name}{note}")
