"""Harvest runs on an embedded instance: first run stores version 1, an identical re-run
stores nothing, changed data stores version 2; region codes are linked to places."""

from __future__ import annotations

import json
from typing import Any

import httpx
import pytest

from bylab.auth import actions as accounts
from bylab.catalog.queries import dataset_show
from bylab.connectors.harvest import (
    HarvestTarget,
    country_for_url,
    harvest_jsonstat_file,
    harvest_pxweb,
)
from bylab.connectors.pxweb import PxWebSource, Selection
from bylab.core import Bylab, Context
from bylab.errors import NotAuthorized
from bylab.places.models import Place
from tests.connectors.conftest import SCB_JSONSTAT1, SCB_V2, load

TAB638 = PxWebSource(base_url="https://statistikdatabasen.scb.se/api/v2", table="TAB638",
                     selections=[Selection("Region", ["00"]), Selection("Tid", ["2024"])])


@pytest.fixture
def ctx(embedded: Bylab) -> Context:
    """An organisation and one real place: Norrbottens län has county code 25."""
    context = embedded.system_context()
    accounts.organisation_create(context, "scb-demo", "SCB demo")
    with context.db.session() as session:
        session.add(Place(id="SE-25", country="SE", level="county", code="25",
                          code_scheme="lanskod", name="Norrbottens län",
                          names={"sv": "Norrbottens län"}, parent_id="SE"))
    return context


def _stored_rows(ctx: Context, name: str) -> list[dict[str, Any]]:
    dataset = dataset_show(ctx, name)
    path = ctx.tables.resolve(dataset.versions[-1].table_path)
    result = ctx.tables.query(f"SELECT * FROM {ctx.tables.scan(path)}")
    names = [column[0] for column in result.description]
    return [dict(zip(names, row, strict=True)) for row in result.fetchall()]


def _serving(document: dict[str, Any]) -> httpx.MockTransport:
    body = json.dumps(document).encode()
    return httpx.MockTransport(lambda request: httpx.Response(200, content=body))


def test_pxweb_first_run_rerun_and_change(ctx: Context) -> None:
    target = HarvestTarget(dataset_name="population-tab638", organisation="scb-demo")
    first = harvest_pxweb(ctx, TAB638, target, transport=_serving(load(SCB_V2)))
    assert (first.version, first.rows, first.suppressed_cells) == (1, 1, 0)
    assert first.unmapped_region_codes == ["00"]  # Riket: no place with code SE-00
    dataset = dataset_show(ctx, "population-tab638")
    assert dataset.title == {"en": "Folkmängd efter region, civilstånd, ålder, kön och år"}
    assert "SCB" in dataset.source_note

    again = harvest_pxweb(ctx, TAB638, target, transport=_serving(load(SCB_V2)))
    assert again.unchanged and "unchanged" in again.summary()
    assert again.content_sha256 == first.content_sha256
    assert dataset_show(ctx, "population-tab638").latest_version == 1

    revised = load(SCB_V2)
    revised["value"] = [50938]  # the real answer changed in memory, as a revision would
    changed = harvest_pxweb(ctx, TAB638, target, transport=_serving(revised))
    assert changed.version == 2
    assert dataset_show(ctx, "population-tab638").latest_version == 2
    [row] = _stored_rows(ctx, "population-tab638")
    assert (row["value"], row["region_code"], row["place_id"]) == (50938, "00", None)


def test_saved_file_links_regions_to_places(ctx: Context) -> None:
    target = HarvestTarget(dataset_name="deaths-norrbotten", organisation="scb-demo",
                           title="Deaths, Norrbotten")
    report = harvest_jsonstat_file(ctx, SCB_JSONSTAT1, target, country="SE")
    assert (report.version, report.rows, report.unmapped_region_codes) == (1, 1120, [])
    rows = _stored_rows(ctx, "deaths-norrbotten")
    assert {row["place_id"] for row in rows} == {"SE-25"}
    assert sum(row["value"] for row in rows if row["time_code"] == "1996") == sum(
        value for index, value in enumerate(load(SCB_JSONSTAT1)["dataset"]["value"])
        if index % 28 == 27)
    assert harvest_jsonstat_file(ctx, SCB_JSONSTAT1, target, country="SE").unchanged
    without_country = harvest_jsonstat_file(ctx, SCB_JSONSTAT1, target)
    assert without_country.version == 2  # place_id now NULL: a different table
    assert without_country.unmapped_region_codes == ["25"]


def test_harvest_needs_the_editor_role(ctx: Context) -> None:
    anonymous = ctx.bylab.context()
    target = HarvestTarget(dataset_name="not-allowed", organisation="scb-demo")
    with pytest.raises(NotAuthorized):
        harvest_jsonstat_file(anonymous, SCB_JSONSTAT1, target, country="SE")


def test_country_from_the_statistics_office_host() -> None:
    assert country_for_url("https://data.ssb.no/api/v0/en/table") == "NO"
    assert country_for_url("https://api.scb.se/OV0104/v1/doris/en/ssd") == "SE"
    assert country_for_url("https://example.org/api/v2") == ""
