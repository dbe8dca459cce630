"""`bylab registry ...`: load the seed and search projects, challenges and solutions."""

from __future__ import annotations

from typing import Annotated

import typer

from bylab.registry.search import registry_search
from bylab.registry.seed import registry_seed

app = typer.Typer(no_args_is_help=True)


def _open_bylab():  # noqa: ANN202
    from bylab.cli import open_bylab

    return open_bylab()


@app.command("seed")
def seed() -> None:
    """Load the real initiatives from the public articles (running it again changes nothing)."""
    typer.echo(registry_seed(_open_bylab().system_context()).summary())


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
