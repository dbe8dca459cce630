"""How the dashboard serves repeated views fast without widening access: the provenance-free
read keeps the indicators' access rule, kept responses are per reader visibility and never
carry one reader's page to another, and the favicon is served."""

from __future__ import annotations

import httpx
from sqlalchemy import delete, insert

from bylab.auth.actor import Actor
from bylab.core import Bylab
from bylab.indicators.actions import readable_values
from bylab.indicators.models import IndicatorValue
from bylab.indicators.reads import readable_plain_values

BROADBAND = "EC: ICT: ICT: 4C"
HIDDEN_PERIOD = "2031"


def _insert_hidden_value(demo: Bylab) -> None:
    with demo.db.session() as session:
        session.execute(insert(IndicatorValue), [{
            "kpi_code": BROADBAND, "place_id": "NO-1506", "period": HIDDEN_PERIOD,
            "status": "computed", "value": 77.5, "unit": "percent", "reason": "",
            "dataset_ids": ["a-hidden-dataset"], "provenance": {"secret": True}}])


def _delete_hidden_value(demo: Bylab) -> None:
    with demo.db.session() as session:
        session.execute(delete(IndicatorValue).where(IndicatorValue.period == HIDDEN_PERIOD))


def _keys(rows: list) -> set[tuple[str, str, str, float | None]]:
    return {(row.kpi_code, row.place_id, row.period, row.value) for row in rows}


def test_plain_read_hides_a_value_fed_by_a_hidden_dataset(demo: Bylab) -> None:
    _insert_hidden_value(demo)
    try:
        for ctx in (demo.context(Actor.anonymous()), demo.system_context()):
            with demo.db.session() as session:
                plain = readable_plain_values(session, ctx, [BROADBAND])
                full = readable_values(session, ctx, [BROADBAND])
            assert _keys(plain) == _keys(full)  # the same rule as readable_values
            hidden_shown = any(row.period == HIDDEN_PERIOD for row in plain)
            assert hidden_shown == ctx.actor.is_sysadmin
        assert len(_keys(plain)) > 1
    finally:
        _delete_hidden_value(demo)


def test_kept_overview_follows_the_readers_visibility_and_new_values(
        demo: Bylab, web: httpx.Client, admin_headers: dict[str, str]) -> None:
    selection = {"kpi": "EC-ICT-ICT-4C", "year": HIDDEN_PERIOD}
    before = web.get("/api/dashboard/overview", params=selection).json()
    assert before["year"] != HIDDEN_PERIOD
    _insert_hidden_value(demo)
    try:
        admin = web.get("/api/dashboard/overview", params=selection, headers=admin_headers)
        assert admin.json()["year"] == HIDDEN_PERIOD  # the kept answer was not reused
        anonymous = web.get("/api/dashboard/overview", params=selection).json()
        assert anonymous == before
        page = web.get("/dashboard", params=selection).text
        assert "77.5" not in page and "77,5" not in page
    finally:
        _delete_hidden_value(demo)
    assert web.get("/api/dashboard/overview", params=selection,
                   headers=admin_headers).json()["year"] != HIDDEN_PERIOD


def test_a_kept_page_is_not_shown_to_a_logged_in_reader(
        web: httpx.Client, admin_headers: dict[str, str]) -> None:
    anonymous = web.get("/dashboard/places/NO-1506")
    assert web.get("/dashboard/places/NO-1506").text == anonymous.text
    assert 'href="/login' in anonymous.text
    admin = web.get("/dashboard/places/NO-1506", headers=admin_headers).text
    assert 'href="/login' not in admin and 'class="who"' in admin


def test_kept_bodies_are_sent_compressed_or_plain_as_asked(web: httpx.Client) -> None:
    path = "/api/dashboard/boundaries?region=NO-15"
    plain = web.get(path, headers={"Accept-Encoding": "identity"})
    assert "content-encoding" not in plain.headers
    compressed = web.get(path, headers={"Accept-Encoding": "gzip"})
    assert compressed.headers["content-encoding"] == "gzip"
    assert compressed.content == plain.content  # decompressed by the client
    assert int(compressed.headers["content-length"]) < len(plain.content) / 2
    assert all("Accept-Encoding" in response.headers["vary"] for response in (plain, compressed))
    language = web.get("/dashboard/places/NO-1506", headers={"Accept-Language": "sv"}).text
    assert 'lang="sv"' in language


def test_favicon_is_served_and_linked(web: httpx.Client) -> None:
    icon = web.get("/favicon.ico")
    assert icon.status_code == 200 and icon.headers["content-type"] == "image/svg+xml"
    assert icon.text.startswith("<svg")
    assert 'rel="icon" href="/favicon.ico"' in web.get("/dashboard").text
