"""A city profile's set-based reads (bylab.dashboard.profile_reads) give exactly what the
per-function indicator reads give (coverage, values, the region comparison with its
percentiles, target status), on the real demo data with a private value, a missing record
and targets added, for an anonymous reader and the system; in a handful of queries."""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from datetime import date
from gettext import NullTranslations

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import delete, event, insert

from bylab.app import create_app
from bylab.auth.actor import Actor
from bylab.core import Bylab, Context
from bylab.dashboard.profile_reads import ProfileData, profile_data
from bylab.errors import InvalidInput, NotFound
from bylab.indicators.actions import indicator_coverage, indicator_values
from bylab.indicators.compare import PeerKind, indicator_compare
from bylab.indicators.models import IndicatorTarget, IndicatorValue, TargetKind, TargetScope
from bylab.indicators.targets import TargetStatus, target_add, target_status
from bylab.places.models import Place
from bylab.indicators.unit_labels import unit_labels
from bylab.places.queries import place_children
from bylab.web import i18n
from tests.web.test_error_language import translations_of

BROADBAND = "EC: ICT: ICT: 4C"  # higher is better
UNEMPLOYMENT = "EC: P: EM: 1C"  # lower is better
PRIVATE_PERIOD = "2031"
MAX_QUERIES = 8
DENSITY_UNIT = "inhabitants per km²"


def per_function_reads(ctx: Context, place_id: str) -> ProfileData:
    """What the profile read before: each indicator function on its own."""
    coverage = indicator_coverage(ctx, place_id)
    with ctx.db.session() as session:
        place = session.get(Place, coverage.place_id)
        session.expunge_all()
    assert place is not None
    comparison = None
    if place.parent_id is not None:
        try:
            comparison = indicator_compare(ctx, PeerKind.REGION, place.id)
        except InvalidInput:
            comparison = None
    return ProfileData(place, coverage, indicator_values(ctx, place=place.id), comparison,
                       target_status(ctx, place.id))


def target_facts(statuses: list[TargetStatus]) -> list[tuple[object, ...]]:
    return [(status.target.id, status.place_id, status.status, status.latest_period,
             status.latest_value, status.gap, status.slope_per_year, status.projected_value)
            for status in statuses]


@pytest.fixture(scope="module")
def with_targets_and_a_private_value(demo: Bylab) -> Iterator[Bylab]:
    system = demo.system_context()
    added = [target_add(system, BROADBAND, "NO-15", 99.0, 2030, TargetKind.NATIONAL,
                        "test plan", TargetScope.CHILDREN),
             target_add(system, UNEMPLOYMENT, "NO-1506", 1.5, 2028, TargetKind.OWN,
                        "test plan"),
             target_add(system, BROADBAND, "NO", 50.0, 2026, TargetKind.SDG, "test plan",
                        TargetScope.COUNTRY)]
    with demo.db.session() as session:
        session.execute(insert(IndicatorValue), [{
            "kpi_code": BROADBAND, "place_id": "NO-1506", "period": PRIVATE_PERIOD,
            "status": "computed", "value": 12.5, "unit": "percent", "reason": "",
            "dataset_ids": ["a-private-dataset"], "provenance": {}}])
    yield demo
    with demo.db.session() as session:
        session.execute(delete(IndicatorValue).where(IndicatorValue.period == PRIVATE_PERIOD))
        session.execute(delete(IndicatorTarget).where(
            IndicatorTarget.id.in_([target.id for target in added])))


def places_to_check(demo: Bylab) -> list[str]:
    """The demo region's municipalities, the region itself and a country (no parent)."""
    municipalities = [place.id for place in place_children(demo.system_context(), "NO-15",
                                                           date.today())]
    return [*municipalities, "NO-15", "NO"]


@pytest.mark.parametrize("reader", ["anonymous", "system"])
def test_profile_reads_equal_the_indicator_functions(
        with_targets_and_a_private_value: Bylab, reader: str) -> None:
    demo = with_targets_and_a_private_value
    ctx = demo.system_context() if reader == "system" else demo.context(Actor.anonymous())
    checked = places_to_check(demo)
    assert len(checked) > 20
    for place_id in checked:
        fast, slow = profile_data(ctx, place_id), per_function_reads(ctx, place_id)
        assert fast.place.id == slow.place.id == place_id
        assert fast.coverage == slow.coverage, place_id
        assert fast.values == slow.values, place_id
        assert fast.comparison == slow.comparison, place_id
        assert target_facts(fast.targets) == target_facts(slow.targets), place_id
    molde = profile_data(ctx, "NO-1506")
    assert (PRIVATE_PERIOD in {row.period for row in molde.values}) == (reader == "system")
    assert {status.status for status in molde.targets} <= {"met", "on_track", "off_track",
                                                            "no_data"}
    assert len(molde.targets) == 3
    assert molde.comparison is not None and molde.comparison.kpis
    assert any(status.status == "missing" and status.reason for status in
               molde.coverage.kpis)


def test_a_lower_case_id_finds_the_place_and_an_unknown_one_is_not_found(demo: Bylab) -> None:
    ctx = demo.context(Actor.anonymous())
    assert profile_data(ctx, "no-1506").place.id == "NO-1506"
    with pytest.raises(NotFound, match="no place with id 'NO-9999'"):
        profile_data(ctx, "NO-9999")


def test_a_profile_is_read_in_a_handful_of_queries(demo: Bylab) -> None:
    ctx = demo.context(Actor.anonymous())
    statements: list[str] = []

    def count(_conn: object, _cursor: object, statement: str, *_args: object) -> None:
        statements.append(statement)

    event.listen(demo.db.engine, "before_cursor_execute", count)
    try:
        profile_data(ctx, "NO-1506")
    finally:
        event.remove(demo.db.engine, "before_cursor_execute", count)
    assert 0 < len(statements) <= MAX_QUERIES, statements
    assert not any("provenance" in statement for statement in statements
                   if statement.lstrip().upper().startswith("SELECT")
                   and "indicator_values" in statement)


def test_unit_labels_show_in_the_page_language(demo: Bylab,
                                               monkeypatch: pytest.MonkeyPatch) -> None:
    """A definition's unit label is a catalogue message: the profile's headline, its KPI
    table and the map's data look it up in the page's language."""
    # A client of its own (?lang= sets a cookie) and a query of its own (no kept page). The
    # app is made first: modules it imports then keep the real catalogues.
    app = create_app(demo)
    catalogue = translations_of("nb", {DENSITY_UNIT: "innbyggere per km²"})
    monkeypatch.setattr(i18n, "translations_for",
                        lambda language: catalogue if language == "nb"
                        else NullTranslations())
    assert DENSITY_UNIT in unit_labels()
    with TestClient(app, base_url="http://testserver") as web:
        page = web.get("/dashboard/places/NO-1506", params={"lang": "nb", "t": "units"}).text
        assert "innbyggere per km²" in page and DENSITY_UNIT not in page
        english = web.get("/dashboard/places/NO-1506",
                          params={"lang": "en", "t": "units"}).text
        assert DENSITY_UNIT in english
        overview = web.get("/dashboard", params={"kpi": "CTX-POPULATION-DENSITY",
                                                 "lang": "nb", "t": "units"}).text
    data = re.search(r'<script type="application/json" id="overview-data">(.*?)</script>',
                     overview)
    assert data and json.loads(data.group(1))["unit"] == "innbyggere per km²"
