"""Jinja templates: one environment, each capability's templates under its own prefix
(``catalog/dataset.html`` lives in ``bylab/catalog/templates/dataset.html``)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any
from urllib.parse import urlencode

from fastapi import Request
from fastapi.responses import HTMLResponse
from fastapi.templating import Jinja2Templates
from jinja2 import ChoiceLoader, Environment, PackageLoader, PrefixLoader, select_autoescape

from bylab import __version__
from bylab.errors import BylabError
from bylab.web.i18n import FILTERS, FREQUENCY_LABELS, LANGUAGES, translations_for
from bylab.web.security import actor_of, csrf_token

TEMPLATE_PACKAGES = ("web", "auth", "catalog", "places", "indicators", "registry", "dashboard",
                     "scenarios", "sensors", "connectors", "mobility")


def _environment() -> Environment:
    prefixed = PrefixLoader(
        {name: PackageLoader(f"bylab.{name}", "templates") for name in TEMPLATE_PACKAGES}
    )
    environment = Environment(
        loader=ChoiceLoader([prefixed]),
        autoescape=select_autoescape(["html", "xml"]),
        extensions=["jinja2.ext.i18n"],
    )
    environment.install_null_translations(newstyle=True)  # type: ignore[attr-defined]
    return environment


def localised(texts: Mapping[str, str], language: str) -> str:
    """The text in ``language`` if given, else English, else the first one."""
    for candidate in (language, "en"):
        if texts.get(candidate, "").strip():
            return texts[candidate]
    return next((text for text in texts.values() if text.strip()), "")


templates = Jinja2Templates(env=_environment())
templates.env.globals["localised"] = localised
templates.env.globals["frequency_labels"] = FREQUENCY_LABELS
templates.env.filters.update(FILTERS)


def language_of(request: Request) -> str:
    """The UI language: ?lang=, then the lang cookie, then Accept-Language, then English."""
    for candidate in (request.query_params.get("lang"), request.cookies.get("lang")):
        if candidate in LANGUAGES:
            return candidate
    accepted = request.headers.get("accept-language", "")
    for part in accepted.split(","):
        code = part.split(";")[0].strip().lower()[:2]
        code = "nb" if code in {"no", "nn"} else code
        if code in LANGUAGES:
            return code
    return "en"


def language_links(request: Request) -> list[tuple[str, str, str]]:
    """(code, name, address) of this page in each UI language, keeping its other parameters."""
    kept = [(key, value) for key, value in request.query_params.multi_items() if key != "lang"]
    return [(code, name, f"{request.url.path}?{urlencode([*kept, ('lang', code)])}")
            for code, name in LANGUAGES.items()]


class _LazyCsrfToken:
    """The session's CSRF token, made only when a page really has a form that needs it, so
    anonymous pages without forms set no session cookie."""

    def __init__(self, request: Request) -> None:
        self.request = request

    def __str__(self) -> str:
        return csrf_token(self.request)

    def __html__(self) -> str:
        return str(self)


def render(request: Request, template: str, status_code: int = 200, **values: Any) -> HTMLResponse:
    """Render a page with the values every page needs (actor, language, CSRF token); an
    error among the values is shown in the page's language."""
    language = language_of(request)
    translations = translations_for(language)
    values = {name: value.in_language(translations.gettext, language)
              if isinstance(value, BylabError) else value for name, value in values.items()}
    context = {
        "request": request,
        "actor": actor_of(request),
        "csrf_token": _LazyCsrfToken(request),
        "lang": language,
        "languages": LANGUAGES,
        "language_links": language_links(request),
        "version": __version__,
        "gettext": translations.gettext,
        "ngettext": translations.ngettext,
        "_": translations.gettext,
        **values,
    }
    response = templates.TemplateResponse(request, template, context, status_code=status_code)
    if request.query_params.get("lang") == language:
        response.set_cookie("lang", language, max_age=365 * 86400, samesite="lax")
    return response
