"""Login pages, the current user, API tokens, and organisation pages/API."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Form, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from pydantic import BaseModel

from bylab.auth import actions
from bylab.core import Context
from bylab.errors import BylabError, NotAuthorized
from bylab.web.security import ContextDep, check_csrf, login_session, logout_session
from bylab.web.templating import render

router = APIRouter()


@router.get("/login", response_class=HTMLResponse, include_in_schema=False)
def login_page(request: Request, next: str = "/") -> HTMLResponse:
    return render(request, "auth/login.html", next=_safe_next(next), error=None)


@router.post("/login", include_in_schema=False)
def login_submit(
    request: Request,
    ctx: ContextDep,
    username: Annotated[str, Form()],
    password: Annotated[str, Form()],
    csrf_token: Annotated[str, Form()] = "",
    next: Annotated[str, Form()] = "/",
) -> Response:
    check_csrf(request, csrf_token)
    try:
        actor = actions.user_authenticate(ctx, username, password)
    except NotAuthorized as error:
        return render(request, "auth/login.html", status_code=401, next=_safe_next(next),
                      error=error)
    assert actor.user_id is not None
    login_session(request, actor.user_id)
    return RedirectResponse(_safe_next(next), status_code=303)


@router.post("/logout", include_in_schema=False)
def logout(request: Request, csrf_token: Annotated[str, Form()] = "") -> Response:
    check_csrf(request, csrf_token)
    logout_session(request)
    return RedirectResponse("/", status_code=303)


def _safe_next(target: str) -> str:
    """Only local paths: never redirect a login to another site."""
    return target if target.startswith("/") and not target.startswith("//") else "/"


@router.get("/account", response_class=HTMLResponse, include_in_schema=False)
def account_page(request: Request, ctx: ContextDep) -> Response:
    """Your organisations and roles, and your API tokens."""
    if ctx.actor.is_anonymous:
        return RedirectResponse("/login?next=/account", status_code=303)
    return _account(request, ctx)


def _account(request: Request, ctx: Context, new_token: str | None = None) -> HTMLResponse:
    organisations = {org.id: org for org in actions.organisation_list(ctx)}
    roles = [(organisations[org_id], role) for org_id, role in ctx.actor.roles.items()
             if org_id in organisations]
    return render(request, "auth/account.html", roles=roles, tokens=actions.token_list(ctx),
                  new_token=new_token)


@router.post("/account/tokens", include_in_schema=False)
def account_token_create(
    request: Request,
    ctx: ContextDep,
    name: Annotated[str, Form()],
    csrf_token: Annotated[str, Form()] = "",
) -> Response:
    check_csrf(request, csrf_token)
    if ctx.actor.is_anonymous:
        raise NotAuthorized("log in to create a token")
    return _account(request, ctx, new_token=actions.token_create(ctx, name.strip() or "token"))


@router.post("/account/tokens/{token_id}/revoke", include_in_schema=False)
def account_token_revoke(
    request: Request,
    ctx: ContextDep,
    token_id: str,
    csrf_token: Annotated[str, Form()] = "",
) -> Response:
    check_csrf(request, csrf_token)
    actions.token_revoke(ctx, token_id)
    return RedirectResponse("/account", status_code=303)


class MeOut(BaseModel):
    username: str | None
    is_sysadmin: bool
    organisations: dict[str, str]


@router.get("/api/me", tags=["accounts"])
def me(ctx: ContextDep) -> MeOut:
    """Who the API thinks you are (anonymous without a token or login)."""
    return MeOut(
        username=ctx.actor.username,
        is_sysadmin=ctx.actor.is_sysadmin,
        organisations={org_id: str(role) for org_id, role in ctx.actor.roles.items()},
    )


class TokenIn(BaseModel):
    name: str


class TokenOut(BaseModel):
    name: str
    token: str


@router.post("/api/tokens", tags=["accounts"])
def token_create(request: Request, ctx: ContextDep, body: TokenIn) -> TokenOut:
    """Create an API token for the logged-in user. The secret is shown only here."""
    check_csrf(request, None)
    if ctx.actor.is_anonymous:
        raise NotAuthorized("log in to create a token")
    return TokenOut(name=body.name, token=actions.token_create(ctx, body.name))


class OrganisationOut(BaseModel):
    id: str
    name: str
    title: str
    kind: str
    description: str
    website: str | None


@router.get("/api/organisations", tags=["accounts"])
def organisation_list(ctx: ContextDep, kind: str | None = None) -> list[OrganisationOut]:
    """Every organisation (municipalities, companies, academia, networks)."""
    return [
        OrganisationOut.model_validate(org, from_attributes=True)
        for org in actions.organisation_list(ctx, kind)
    ]


@router.get("/organisations", response_class=HTMLResponse, include_in_schema=False)
def organisations_page(request: Request, ctx: ContextDep) -> HTMLResponse:
    return render(request, "auth/organisations.html",
                  organisations=actions.organisation_list(ctx))


@router.get("/organisations/{name}", response_class=HTMLResponse, include_in_schema=False)
def organisation_page(request: Request, ctx: ContextDep, name: str) -> HTMLResponse:
    organisation = actions.organisation_show(ctx, name)
    members: list = []
    try:
        members = actions.network_members(ctx, name) if organisation.kind == "network" else []
    except BylabError:
        members = []
    return render(request, "auth/organisation.html", organisation=organisation, members=members)
