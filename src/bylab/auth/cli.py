"""`bylab account ...`: organisations, users, roles and tokens."""

from __future__ import annotations

from typing import Annotated

import typer

from bylab.auth import actions
from bylab.auth.models import OrganisationKind, Role

app = typer.Typer(no_args_is_help=True)


def _system_context():  # noqa: ANN202
    from bylab.cli import open_bylab

    return open_bylab().system_context()


@app.command("org-add")
def org_add(
    name: str,
    title: str,
    kind: Annotated[OrganisationKind, typer.Option()] = OrganisationKind.MUNICIPALITY,
    place: Annotated[str | None, typer.Option(help="Place id, e.g. NO-1506.")] = None,
) -> None:
    """Add an organisation."""
    organisation = actions.organisation_create(_system_context(), name, title, kind,
                                               place_id=place)
    typer.echo(organisation.id)


@app.command("network-add")
def network_add(network: str, member: str) -> None:
    """Make an organisation a member of a network."""
    actions.network_add_member(_system_context(), network, member)


@app.command("user-add")
def user_add(
    username: str,
    password: Annotated[str, typer.Option(prompt=True, hide_input=True)],
    email: str = "",
    sysadmin: bool = False,
) -> None:
    """Add a user."""
    actions.user_create(_system_context(), username, password, email, is_sysadmin=sysadmin)


@app.command("role-set")
def role_set(username: str, organisation: str, role: Role) -> None:
    """Give a user a role (admin, editor, viewer) in an organisation."""
    actions.membership_set(_system_context(), username, organisation, role)


@app.command("token-create")
def token_create(username: str, name: str = "cli") -> None:
    """Create an API token for a user and print it (it is shown only once)."""
    typer.echo(actions.token_create(_system_context(), name, username))
