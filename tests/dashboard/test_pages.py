"""The dashboard's pages, data endpoints and exports on the real demo data: the overview's
ranking and quantile classes against the stored values, the profile, the comparison, the
PDF report (read back with pdftotext), the dataset charts against the source file, and that
embeds show public data only."""

from __future__ import annotations

import csv
import io
import json
import re
import shutil
import subprocess
import xml.etree.ElementTree as ElementTree
from datetime import date
from html import unescape
from typing import Any

import httpx
import pytest
from sqlalchemy import delete, insert, select

from bylab.core import Bylab
from bylab.dashboard.actions import class_of, quantile_breaks
from bylab.indicators.actions import indicator_values, kpi_show
from bylab.indicators.models import IndicatorValue
from bylab.places.models import Place
from bylab.web.i18n import format_number
from bylab.places.queries import valid_on_clause

BROADBAND = "EC: ICT: ICT: 4C"  # higher is better; 2022 values for Møre og Romsdal
DENSITY_SLUG = "CTX-POPULATION-DENSITY"


def _region_values(demo: Bylab, kpi: str, period: str, region: str = "NO-15"
                   ) -> dict[str, float]:
    with demo.db.session() as session:
        members = set(session.scalars(select(Place.id).where(
            Place.parent_id == region, valid_on_clause(date.today()))))
    rows = indicator_values(demo.system_context(), kpi=kpi, period=period)
    return {row.place_code: row.value for row in rows
            if row.place_code in members and row.value is not None}


def test_overview_ranks_the_regions_stored_values_best_first(demo: Bylab,
                                                            web: httpx.Client) -> None:
    answer = web.get("/api/dashboard/overview", params={"kpi": "EC-ICT-ICT-4C"}).json()
    expected = _region_values(demo, BROADBAND, "2022")
    assert answer["region"] == "NO-15" and answer["year"] == "2022"
    assert [place["id"] for place in answer["places"]] == sorted(
        expected, key=lambda place: (-expected[place], place))
    assert {place["id"]: place["value"] for place in answer["places"]} == expected
    assert [place["rank"] for place in answer["places"]] == list(range(1, len(expected) + 1))
    assert answer["places"][0]["percentile"] == 100 and answer["places"][-1]["percentile"] == 0


def test_overview_classes_are_quantiles_with_an_ordered_colour_blind_safe_legend(
        web: httpx.Client) -> None:
    answer = web.get("/api/dashboard/overview", params={"kpi": "EC-ICT-ICT-4C"}).json()
    legend = answer["legend"]
    assert [item["colour"] for item in legend] == ["#fde725", "#5ec962", "#21918c",
                                                   "#3b528b", "#440154"]
    assert sum(item["count"] for item in legend) == len(answer["places"]) == 25
    assert [item["count"] for item in legend] == [5, 5, 5, 5, 5]  # quantiles of 25 values
    for place in answer["places"]:
        [item] = [item for item in legend if item["colour"] == place["colour"]]
        assert item["low"] <= place["value"] <= item["high"]


def test_quantile_breaks_put_equal_shares_in_each_class() -> None:
    values = [float(number) for number in range(1, 101)]
    breaks = quantile_breaks(values)
    counts = [0] * 5
    for value in values:
        counts[class_of(value, breaks)] += 1
    assert counts == [20, 20, 20, 20, 20]
    assert quantile_breaks([3.0, 3.0, 3.0]) == []  # one value: one class


def test_country_peers_rank_among_every_municipality(demo: Bylab, web: httpx.Client) -> None:
    region = web.get("/api/dashboard/overview", params={"kpi": "EC-ICT-ICT-4C"}).json()
    country = web.get("/api/dashboard/overview",
                      params={"kpi": "EC-ICT-ICT-4C", "peers": "country"}).json()
    national = indicator_values(demo.system_context(), kpi=BROADBAND, period="2022")
    best = max(row.value for row in national if row.value is not None)
    assert {place["id"] for place in country["places"]} == {
        place["id"] for place in region["places"]}
    assert country["places"][0]["rank"] >= 1
    assert max(place["rank"] for place in country["places"]) > len(region["places"])
    if country["places"][0]["value"] < best:
        assert country["places"][0]["rank"] > 1


def test_overview_page_holds_selection_table_map_data_and_embed_snippet(
        web: httpx.Client) -> None:
    page = web.get("/dashboard", params={"kpi": DENSITY_SLUG, "year": "2010"})
    assert page.status_code == 200
    text = page.text
    assert 'id="overview-map"' in text and 'id="overview-data"' in text
    assert '<option selected>2010</option>' in text
    assert "region=NO-15&amp;kpi=CTX-POPULATION-DENSITY&amp;year=2010&amp;peers=region" in text
    assert "/embed/map?region=NO-15" in text
    assert "/dashboard/places/NO-1506" in text  # the table links to the profiles


def test_a_year_without_values_falls_back_to_the_latest_with_a_note(web: httpx.Client) -> None:
    page = web.get("/dashboard", params={"kpi": "EC-ICT-ICT-4C", "year": "1990"})
    assert page.status_code == 200
    assert "No values for 1990: showing 2022." in page.text


@pytest.mark.parametrize(("params", "field"), [({"peers": "galaxy"}, "peers"),
                                               ({"kpi": "NO-SUCH-KPI"}, "kpi"),
                                               ({"region": "XX-99"}, "id")])
def test_bad_selection_names_the_field(web: httpx.Client, params: dict[str, str],
                                       field: str) -> None:
    answer = web.get("/api/dashboard/overview", params=params)
    assert answer.status_code in {400, 404}
    assert answer.json()["error"]["field"] == field


def test_overview_csv_is_the_table_behind_the_map(demo: Bylab, web: httpx.Client) -> None:
    answer = web.get("/dashboard/overview.csv", params={"kpi": "EC-ICT-ICT-4C"})
    assert answer.headers["content-type"].startswith("text/csv")
    rows = list(csv.DictReader(io.StringIO(answer.text)))
    expected = _region_values(demo, BROADBAND, "2022")
    assert {row["place_id"]: float(row["value"]) for row in rows} == expected
    assert [int(row["rank"]) for row in rows] == list(range(1, 26))


def test_profile_shows_values_sparklines_percentiles_provenance_and_coverage(
        demo: Bylab, web: httpx.Client) -> None:
    page = web.get("/dashboard/places/NO-1506")
    assert page.status_code == 200
    density = [row for row in indicator_values(demo.system_context(), place="NO-1506",
                                               kpi=DENSITY_SLUG)]
    latest = density[-1]
    text = page.text
    assert "Molde" in text and "Population density" in text
    assert format_number(latest.value, "en") in text
    assert f"Trend {density[0].period}–{latest.period}" in text  # the sparkline's name
    assert 'class="sparkline"' in text
    assert (f"/api/indicators/value?kpi={DENSITY_SLUG}&amp;place=NO-1506&amp;"
            f"period={latest.period}") in text
    assert "1 / 91" in text  # broadband is the one U4SSC KPI computed for Molde
    assert "The other 90 KPIs" in text


def test_profile_csv_has_every_value_of_the_place(demo: Bylab, web: httpx.Client) -> None:
    rows = list(csv.DictReader(io.StringIO(web.get("/dashboard/places/NO-1506/values.csv")
                                           .text)))
    stored = indicator_values(demo.system_context(), place="NO-1506")
    assert sorted((row["kpi_code"], row["period"], float(row["value"])) for row in rows) == \
        sorted((row.kpi_code, row.period, row.value) for row in stored)


def test_unknown_place_is_not_found(web: httpx.Client) -> None:
    assert web.get("/dashboard/places/XX-0000").status_code == 404


@pytest.mark.skipif(shutil.which("pdftotext") is None, reason="pdftotext is not installed")
def test_pdf_report_holds_the_profile(demo: Bylab, web: httpx.Client) -> None:
    answer = web.get("/dashboard/places/NO-1506/report.pdf")
    assert answer.status_code == 200 and answer.content.startswith(b"%PDF")
    text = subprocess.run(["pdftotext", "-", "-"], input=answer.content, capture_output=True,
                          check=True).stdout.decode("utf-8")
    text = " ".join(text.split())  # table cells wrap
    latest = indicator_values(demo.system_context(), place="NO-1506", kpi=DENSITY_SLUG)[-1]
    assert "Molde" in text and "NO-1506" in text
    assert "Wireless Broadband Coverage" in text and "Population density" in text
    assert format_number(latest.value, "en") in text
    pages = subprocess.run(["pdfinfo", "-"], input=answer.content, capture_output=True,
                           check=True).stdout.decode()
    assert re.search(r"^Pages:\s+1$", pages, re.MULTILINE), pages  # one printable page


def test_compare_takes_two_to_six_places(web: httpx.Client) -> None:
    for places in ("NO-1506", ",".join(f"NO-15{number:02d}" for number in range(5, 12))):
        answer = web.get("/api/dashboard/compare", params={"places": places})
        assert answer.status_code == 400 and answer.json()["error"]["field"] == "places"


def test_compare_page_shows_a_bad_list_beside_the_field(web: httpx.Client) -> None:
    page = web.get("/dashboard/compare", params={"places": "NO-1506, "})
    assert page.status_code == 400
    assert 'id="places-error"' in page.text and 'value="NO-1506, "' in page.text


def test_compare_series_equal_the_stored_values(demo: Bylab, web: httpx.Client) -> None:
    answer = web.get("/api/dashboard/compare", params={"places": "NO-1506,no-1505"}).json()
    [density] = [chart for chart in answer["kpis"] if chart["slug"] == DENSITY_SLUG]
    for series in density["series"]:
        stored = {row.period: row.value for row in indicator_values(
            demo.system_context(), place=series["id"], kpi=DENSITY_SLUG)}
        assert dict(zip(density["periods"], series["values"], strict=True)) == {
            period: stored.get(period) for period in density["periods"]}
    assert set(answer["dimension_scores"]) == {"NO-1506", "NO-1505"}
    page = web.get("/dashboard/compare", params={"places": "NO-1506,NO-1505"})
    assert page.text.count("<canvas") == len(answer["kpis"]) == 2


def test_chart_exports_svg_and_csv(web: httpx.Client) -> None:
    svg = web.get("/dashboard/compare.svg", params={"places": "NO-1506,NO-1505",
                                                    "kpi": DENSITY_SLUG})
    assert svg.headers["content-type"] == "image/svg+xml"
    root = ElementTree.fromstring(svg.text)
    texts = {element.text for element in root.iter("{http://www.w3.org/2000/svg}text")}
    assert {"Molde (NO-1506)", "Kristiansund (NO-1505)", "2005", "2026"} <= texts
    rows = list(csv.DictReader(io.StringIO(web.get(
        "/dashboard/compare.csv", params={"places": "NO-1506,NO-1505"}).text)))
    assert {row["place_id"] for row in rows} == {"NO-1506", "NO-1505"}


def test_kpi_page_has_map_distribution_and_series(web: httpx.Client) -> None:
    text = web.get("/indicators/EC-ICT-ICT-4C").text
    assert 'id="overview-map"' in text
    assert text.count("<canvas") == 2  # distribution and median/lowest/highest per period
    assert "Open in the region overview" in text


def test_dataset_chart_sums_the_source_file(web: httpx.Client) -> None:
    chart = web.get("/api/dashboard/datasets/no-population-municipalities/chart").json()
    assert (chart["x"], chart["y"], chart["aggregate"]) == ("year", "population", "sum")
    values = dict(zip(chart["periods"], chart["series"][0]["values"], strict=True))
    assert values["2024"] == 5_550_203  # national total 2024, demo/data/SOURCES.md
    page = web.get("/datasets/no-population-municipalities").text
    assert "/dashboard/datasets/no-population-municipalities/chart?version=1" in page
    framed = web.get("/dashboard/datasets/no-population-municipalities/chart",
                     params={"x": "municipality_name", "aggregate": "avg"})
    assert framed.status_code == 200 and "<canvas" in framed.text
    bad = web.get("/api/dashboard/datasets/no-population-municipalities/chart",
                  params={"y": "municipality_name"})
    assert bad.status_code == 400 and bad.json()["error"]["field"] == "y"


def test_spatial_dataset_map_features(demo: Bylab, web: httpx.Client) -> None:
    collection = web.get("/api/dashboard/datasets/no-municipality-boundaries-2024/features")
    features = collection.json()["features"]
    assert len(features) == 357  # Norway's municipalities in 2024
    assert all(feature["geometry"]["type"] in {"Polygon", "MultiPolygon"}
               for feature in features)
    assert 'id="dataset-map"' in web.get("/datasets/no-municipality-boundaries-2024").text


def test_embeds_show_public_values_only(demo: Bylab, web: httpx.Client,
                                        admin_headers: dict[str, str]) -> None:
    """A value fed by a dataset the reader cannot see is in the administrator's overview but
    in no embed."""
    with demo.db.session() as session:
        session.execute(insert(IndicatorValue), [{
            "kpi_code": BROADBAND, "place_id": "NO-1506", "period": "2030",
            "status": "computed", "value": 12.5, "unit": "percent", "reason": "",
            "dataset_ids": ["a-private-dataset"], "provenance": {}}])
    try:
        selection = {"kpi": "EC-ICT-ICT-4C", "year": "2030"}
        admin = web.get("/api/dashboard/overview", params=selection, headers=admin_headers)
        assert admin.json()["year"] == "2030"
        assert admin.json()["places"][0]["value"] == 12.5
        embed = web.get("/embed/map", params=selection, headers=admin_headers)
        assert "No values" not in embed.text and '"year": "2022"' in embed.text
        assert "\"value\": 12.5" not in embed.text and "\"years\": [\"2022\"]" in embed.text
        anonymous = web.get("/api/dashboard/overview", params=selection).json()
        assert anonymous["year"] == "2022"
    finally:
        with demo.db.session() as session:
            session.execute(delete(IndicatorValue).where(IndicatorValue.period == "2030"))


def test_embed_chart_and_dataset_embed(web: httpx.Client) -> None:
    chart = web.get("/embed/compare", params={"places": "NO-1506,NO-1505",
                                              "kpi": DENSITY_SLUG})
    assert chart.status_code == 200 and "<canvas" in chart.text
    assert 'class="site"' not in chart.text  # no site header inside someone else's page
    assert web.get("/embed/datasets/no-population-municipalities").status_code == 200


def test_numbers_follow_the_page_language(demo: Bylab, web: httpx.Client) -> None:
    latest = indicator_values(demo.system_context(), place="NO-1506", kpi=DENSITY_SLUG)[-1]
    assert latest.value is not None and latest.value != int(latest.value)
    norwegian = web.get("/dashboard/places/NO-1506", params={"lang": "nb"}).text
    assert format_number(latest.value, "nb") in norwegian
    assert "," in format_number(latest.value, "nb")  # decimal comma


def test_map_exports_as_svg_with_the_pages_classes_legend_and_language(
        demo: Bylab, web: httpx.Client) -> None:
    params = {"kpi": "EC-ICT-ICT-4C", "year": "2022", "lang": "nb"}
    answer = web.get("/api/dashboard/overview", params=params).json()
    svg = web.get("/dashboard/overview.svg", params=params)
    assert svg.headers["content-type"] == "image/svg+xml"
    namespace = "{http://www.w3.org/2000/svg}"
    root = ElementTree.fromstring(svg.text)
    areas = {path.findtext(f"{namespace}title", "").split(":")[0]: path
             for path in root.iter(f"{namespace}path")}
    boundaries = web.get("/api/dashboard/boundaries", params={"region": "NO-15"}).json()
    assert len(areas) == len(boundaries["features"])
    for place in answer["places"]:  # each place filled with its class colour on the page
        assert areas[place["name"]].get("fill") == place["colour"]
    for place in answer["missing"]:
        assert areas[place["name"]].get("fill") == "#ffffff"
    texts = [element.text or "" for element in root.iter(f"{namespace}text")]
    first = answer["legend"][0]
    assert texts[0].endswith("Møre og Romsdal 2022")
    assert (f"{format_number(first['low'], 'nb')} – {format_number(first['high'], 'nb')} "
            f"({first['count']})") in texts
    assert "ingen verdi" in texts
    page = web.get("/dashboard", params=params).text
    assert '/dashboard/overview.svg?region=NO-15&amp;kpi=EC-ICT-ICT-4C' in page


def test_error_page_chrome_and_fixed_messages_are_translated(web: httpx.Client) -> None:
    missing = web.get("/dashboard/places/NO-9999", params={"lang": "sv"})
    assert missing.status_code == 404
    assert "<h1>Hittades inte</h1>" in missing.text
    assert "Det finns inget på den här adressen" in missing.text
    refused = web.post("/login", data={"username": "x", "password": "y"},
                       params={"lang": "pl"})
    assert refused.status_code == 403
    assert "brak tokenu CSRF" in refused.text


def _charts_of(page_html: str) -> list[dict[str, Any]]:
    """The JSON each chart of a page draws from (dashboard/_chart.html)."""
    return [json.loads(unescape(found)) for found in re.findall(
        r'<script type="application/json" id="chart-\d+-data">(.*?)</script>', page_html,
        re.DOTALL)]


def test_kpi_page_charts_are_named_in_the_page_language(web: httpx.Client) -> None:
    kpi = kpi_show("EC-ICT-ICT-4C").kpi
    norwegian = _charts_of(web.get("/indicators/EC-ICT-ICT-4C?lang=nb").text)
    english = _charts_of(web.get("/indicators/EC-ICT-ICT-4C?lang=en").text)
    assert [chart["name"].split(",")[0] for chart in norwegian] == [kpi.name("nb")] * 2
    assert kpi.name("nb") != kpi.name("en")
    assert [series["name"] for series in norwegian[1]["series"]] == [
        "median", "lavest", "høyest"]
    assert [series["name"] for series in english[1]["series"]] == [
        "median", "lowest", "highest"]
    assert norwegian[0]["series"][0]["name"] == "steder"
    assert [chart["periods"] for chart in norwegian] == [chart["periods"] for chart in english]


def test_compare_page_names_kpis_in_the_page_language_and_the_api_in_english(
        web: httpx.Client) -> None:
    places = {"places": "NO-1506,NO-1505"}
    api = web.get("/api/dashboard/compare", params=places).json()["kpis"]
    polish = _charts_of(web.get("/dashboard/compare", params={**places, "lang": "pl"}).text)
    assert [chart["name"] for chart in api] == [
        kpi_show(chart["kpi"]).kpi.name("en") for chart in api]
    assert [chart["name"] for chart in polish] == [
        kpi_show(chart["kpi"]).kpi.name("pl") for chart in api]
    assert [chart["name"] for chart in polish] != [chart["name"] for chart in api]
