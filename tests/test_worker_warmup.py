"""A new `bylab serve` worker prepares, beside serving, what its first pages would otherwise
pay for: the routes, the models' mappings, the KPI catalogue, the four languages and every
page template, giving way while it serves a request. An app built with ``create_app`` (as
the tests do) prepares nothing."""

from __future__ import annotations

import threading
import time
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from starlette.responses import PlainTextResponse
from starlette.types import Receive, Scope, Send

from bylab.app import create_app, create_app_from_environment
from bylab.core import Bylab
from bylab.indicators import actions as indicator_actions
from bylab.warmup import IDLE_POLL_S, CountServing, Serving, warm_up
from bylab.web.i18n import LANGUAGES, translations_for
from bylab.web.templating import templates

WARMUP_THREAD = "prepare-worker"


def compiled_templates() -> set[str]:
    """The names of the templates the environment holds compiled."""
    assert templates.env.cache is not None
    return {name for _loader, name in templates.env.cache.keys()}


def page_templates() -> set[str]:
    return set(templates.env.list_templates(extensions=["html"]))


def forget_warm_state() -> None:
    assert templates.env.cache is not None
    templates.env.cache.clear()
    translations_for.cache_clear()
    indicator_actions._bundled_kpi_list.cache_clear()


def test_a_served_worker_warms_its_pages_in_the_background(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("BYLAB_DATA_DIR", str(tmp_path / "data"))
    monkeypatch.setenv("BYLAB_SECRET_KEY", "test-secret")
    forget_warm_state()

    app = create_app_from_environment()
    for thread in threading.enumerate():
        if thread.name == WARMUP_THREAD:
            assert thread.daemon  # it never holds a stopping worker up
            thread.join(timeout=120)
    app.state.bylab.close()

    assert len(page_templates()) > 50
    assert page_templates() <= compiled_templates()
    assert translations_for.cache_info().currsize == len(LANGUAGES)
    assert indicator_actions._bundled_kpi_list.cache_info().currsize == 1


def test_an_app_built_directly_prepares_nothing(embedded: Bylab) -> None:
    forget_warm_state()

    create_app(embedded)

    assert WARMUP_THREAD not in {thread.name for thread in threading.enumerate()}
    assert compiled_templates() == set()
    assert indicator_actions._bundled_kpi_list.cache_info().currsize == 0


def test_the_warm_up_gives_way_while_a_request_is_served() -> None:
    serving = Serving(requests=1)
    done: list[str] = []
    warming = threading.Thread(target=warm_up, args=([lambda: done.append("step")], serving))
    warming.start()
    time.sleep(IDLE_POLL_S * 4)
    assert done == []  # the request is still being served
    serving.requests = 0
    warming.join(timeout=5)
    assert done == ["step"]


def test_the_requests_being_served_are_counted() -> None:
    serving = Serving()

    async def page(scope: Scope, receive: Receive, send: Send) -> None:
        response = PlainTextResponse(f"serving {serving.requests}")
        await response(scope, receive, send)

    client = TestClient(CountServing(page, serving))  # no lifespan: page serves HTTP only
    assert client.get("/").text == "serving 1"
    assert serving.requests == 0
