"""What a new worker of ``bylab serve`` prepares beside serving, so that its first readers do
not pay for it: the KPI catalogue (pint's unit registry), the message catalogues and number
formats of the four languages, and every page template compiled. Each step waits while the
worker is serving a request, so the warm-up never competes with a reader for the CPU; what a
request needs before the warm-up got to it, the request prepares itself (all of it is cached
per process)."""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import UTC, datetime
from functools import partial

from starlette.types import ASGIApp, Receive, Scope, Send

from bylab.web.i18n import LANGUAGES, format_moment, format_number, translations_for
from bylab.web.templating import templates

Step = Callable[[], object]
IDLE_POLL_S = 0.05  # how often a waiting warm-up looks whether the requests are done
FIRST_PAGES = ("web/", "dashboard/")  # template prefixes compiled first: the layout, the landing


@dataclass
class Serving:
    """How many HTTP requests the worker is serving now (counted by CountServing)."""

    requests: int = 0


class CountServing:
    """ASGI middleware that keeps ``serving.requests`` up to date."""

    def __init__(self, app: ASGIApp, serving: Serving) -> None:
        self.app, self.serving = app, serving

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        self.serving.requests += 1
        try:
            await self.app(scope, receive, send)
        finally:
            self.serving.requests -= 1


def warm_up(steps: Iterable[Step], serving: Serving) -> None:
    """Run ``steps`` one by one, each once no request is being served."""
    for step in steps:
        while serving.requests:
            time.sleep(IDLE_POLL_S)
        step()


def page_warm_up_steps() -> list[Step]:
    """The KPI catalogue, the languages, then every page template (the most CPU, so last)."""
    return [_kpi_catalogue, *(partial(_language, code) for code in LANGUAGES),
            *(partial(templates.env.get_template, name) for name in _page_templates())]


def _kpi_catalogue() -> None:
    """The bundled KPI definitions and mappings, read with pint's unit registry: most of the
    first dashboard page's time."""
    from bylab.indicators.actions import kpi_list

    kpi_list()


def _language(code: str) -> None:
    """The message catalogue of ``code`` compiled, its number and date formats loaded."""
    translations_for(code)
    format_number(1234.5, code)
    format_moment(datetime.now(UTC), code)


def _page_templates() -> list[str]:
    names = templates.env.list_templates(extensions=["html"])
    return sorted(names, key=lambda name: not name.startswith(FIRST_PAGES))
