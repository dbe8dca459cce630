"""Who is asking over HTTP (API token or login session) and CSRF protection for cookie logins."""

from __future__ import annotations

import secrets
from typing import Annotated

from fastapi import Depends, Request

from bylab.auth.actions import actor_from_token, actor_load
from bylab.auth.actor import Actor
from bylab.core import Bylab, Context
from bylab.errors import NotAuthorized

SESSION_USER_KEY = "user_id"
SESSION_CSRF_KEY = "csrf"
CSRF_HEADER = "X-CSRF-Token"
CSRF_FIELD = "csrf_token"
SAFE_METHODS = {"GET", "HEAD", "OPTIONS"}


def bylab_of(request: Request) -> Bylab:
    return request.app.state.bylab  # type: ignore[no-any-return]


def api_key_from(request: Request) -> str | None:
    """The API token from `Authorization` (raw or `Bearer`) or CKAN's `X-CKAN-API-Key`."""
    for header in ("X-CKAN-API-Key", "Authorization"):
        value = request.headers.get(header)
        if value:
            scheme, _, rest = value.partition(" ")
            return rest.strip() if scheme.lower() in {"bearer", "token"} and rest else value
    return None


def actor_of(request: Request) -> Actor:
    """The actor for this request, resolved once and cached on the request."""
    cached = getattr(request.state, "actor", None)
    if cached is not None:
        return cached  # type: ignore[no-any-return]
    bylab = bylab_of(request)
    api_key = api_key_from(request)
    actor = Actor.anonymous()
    if api_key:
        actor = actor_from_token(bylab.context(), api_key)
        request.state.via_token = True
    elif user_id := request.session.get(SESSION_USER_KEY):
        actor = actor_load(bylab.context(), user_id) or Actor.anonymous()
    request.state.actor = actor
    return actor


def context_of(request: Request) -> Context:
    """The action context for a request. Use as a FastAPI dependency."""
    return bylab_of(request).context(actor_of(request))


# The action context of a request, as a FastAPI parameter annotation.
ContextDep = Annotated[Context, Depends(context_of)]


def csrf_token(request: Request) -> str:
    token = request.session.get(SESSION_CSRF_KEY)
    if not token:
        token = secrets.token_urlsafe(32)
        request.session[SESSION_CSRF_KEY] = token
    return token  # type: ignore[no-any-return]


def check_csrf(request: Request, submitted: str | None) -> None:
    """Refuse an unsafe request authenticated by the session cookie without the session's
    CSRF token (in the form field or the X-CSRF-Token header). Token-authenticated API
    calls carry no ambient credentials and need none."""
    if request.method in SAFE_METHODS or getattr(request.state, "via_token", False):
        return
    expected = request.session.get(SESSION_CSRF_KEY)
    offered = submitted or request.headers.get(CSRF_HEADER)
    if not expected or not offered or not secrets.compare_digest(expected, offered):
        raise NotAuthorized("missing or wrong CSRF token: reload the page and try again")


def login_session(request: Request, user_id: str) -> None:
    """Start a fresh session for the user (a new CSRF token too: no session fixation)."""
    request.session.clear()
    request.session[SESSION_USER_KEY] = user_id
    csrf_token(request)


def logout_session(request: Request) -> None:
    request.session.clear()
