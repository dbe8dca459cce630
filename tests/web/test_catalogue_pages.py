"""The catalogue's pages over HTTP (in-process, no browser): what each visitor may see and
change, how forms answer bad input, and CSRF refusal."""

from __future__ import annotations

import html
import re
from pathlib import Path

import httpx
import pytest

from bylab.catalog.metadata import DatasetMetadata
from bylab.catalog.publish import dataset_create, dataset_shared_with
from bylab.catalog.queries import DatasetQuery, dataset_search, dataset_show
from bylab.core import Bylab
from tests.web.conftest import POPULATION_CSV, SOURCE_POPULATION, csrf_of, log_in

EDITOR_PAGES = ("/edit", "/versions/new", "/sharing")


@pytest.fixture
def three_datasets(web_instance: Bylab) -> Bylab:
    """Molde publishes one dataset at each sharing level (metadata only)."""
    ctx = web_instance.system_context()
    for name, visibility, shared, title in (
        ("molde-open", "public", [], {"en": "Population of Molde", "nb": "Folketal i Molde"}),
        ("molde-network", "shared", ["smart-molde"], {"nb": "Bredbånd i Molde"}),
        ("molde-internal", "private", [], {"en": "Internal road budget"}),
    ):
        dataset_create(ctx, DatasetMetadata(
            name=name, title=title, organisation="molde", visibility=visibility,
            shared_with=shared, themes=["SOCI"] if name == "molde-open" else ["ECON"],
            spatial=["NO-1506"], keywords=["molde"]))
    return web_instance


def _result_names(page_html: str) -> list[str]:
    return re.findall(r'<h2><a href="/datasets/([a-z0-9_-]+)">', page_html)


def test_catalogue_shows_each_visitor_what_is_shared_with_it(
    three_datasets: Bylab, web_client: httpx.Client
) -> None:
    assert _result_names(web_client.get("/datasets").text) == ["molde-open"]
    log_in(web_client, "ola")
    seen_by_ola = web_client.get("/datasets?sort=name+asc").text
    assert _result_names(seen_by_ola) == ["molde-network", "molde-open"]
    assert 'class="badge shared"' in seen_by_ola and 'class="badge private"' not in seen_by_ola
    log_in(web_client, "mia")
    seen_by_mia = web_client.get("/datasets?sort=name+asc").text
    assert _result_names(seen_by_mia) == ["molde-internal", "molde-network", "molde-open"]
    assert 'class="badge private"' in seen_by_mia
    assert 'href="/datasets/new"' in seen_by_mia


def test_catalogue_title_follows_the_ui_language(
    three_datasets: Bylab, web_client: httpx.Client
) -> None:
    assert "Population of Molde" in web_client.get("/datasets").text
    norwegian = web_client.get("/datasets?lang=nb")
    assert '<html lang="nb">' in norwegian.text and "Folketal i Molde" in norwegian.text
    assert norwegian.cookies.get("lang") == "nb"
    # The cookie keeps the language; a title only in Norwegian is shown in any language.
    log_in(web_client, "mia")
    assert "Bredbånd i Molde" in web_client.get("/datasets?lang=pl").text


def test_catalogue_filters_sorts_and_pages(three_datasets: Bylab, web_client: httpx.Client) -> None:
    ctx = three_datasets.system_context()
    for number in range(21):
        dataset_create(ctx, DatasetMetadata(name=f"alesund-{number:02d}", title={"en": "x"},
                                            organisation="alesund", visibility="public"))
    first = web_client.get("/datasets?organisation=alesund&sort=name+asc")
    assert "21 datasets" in first.text and "Page 1 of 2" in first.text
    assert _result_names(first.text)[:2] == ["alesund-00", "alesund-01"]
    second = web_client.get("/datasets?organisation=alesund&sort=name+asc&page=2")
    assert _result_names(second.text) == ["alesund-20"]
    assert _result_names(web_client.get("/datasets?theme=SOCI").text) == ["molde-open"]
    assert _result_names(web_client.get("/datasets?place=NO-1506").text) == ["molde-open"]
    assert _result_names(web_client.get("/datasets?q=folketal").text) == ["molde-open"]
    assert web_client.get("/datasets?sort=nonsense").status_code == 400
    assert web_client.get("/datasets?page=0").status_code == 400


def test_dataset_page_shows_metadata_and_hides_private_data(
    three_datasets: Bylab, web_client: httpx.Client
) -> None:
    page = web_client.get("/datasets/molde-open")
    assert page.status_code == 200
    assert '<a href="/places/NO-1506">Molde</a>' in page.text
    assert 'href="/organisations/molde"' in page.text
    assert 'href="/datasets/molde-open.ttl"' in page.text
    # The DCAT routes answer before the page route would take "molde-open.ttl" as a name.
    assert web_client.get("/datasets/molde-open.ttl").headers["content-type"].startswith(
        "text/turtle")
    assert 'href="/api/3/action/package_show?id=molde-open"' in page.text
    assert "/edit" not in page.text
    assert web_client.get("/datasets/molde-internal").status_code == 404
    assert web_client.get("/datasets/molde-network").status_code == 404
    log_in(web_client, "ada")
    assert web_client.get("/datasets/molde-network").status_code == 404
    log_in(web_client, "ola")
    assert web_client.get("/datasets/molde-network").status_code == 200
    assert web_client.get("/datasets/molde-internal").status_code == 404


@pytest.mark.parametrize("suffix", EDITOR_PAGES)
def test_editor_pages_need_an_editor_of_the_publisher(
    three_datasets: Bylab, web_client: httpx.Client, suffix: str
) -> None:
    anonymous = web_client.get(f"/datasets/molde-open{suffix}", follow_redirects=False)
    assert anonymous.status_code == 303
    assert anonymous.headers["location"] == f"/login?next=%2Fdatasets%2Fmolde-open{suffix.replace('/', '%2F')}"
    assert web_client.get(f"/datasets/molde-internal{suffix}").status_code == 404
    log_in(web_client, "ola")
    assert web_client.get(f"/datasets/molde-network{suffix}").status_code == 403
    assert web_client.get(f"/datasets/molde-internal{suffix}").status_code == 404
    log_in(web_client, "mia")
    assert web_client.get(f"/datasets/molde-internal{suffix}").status_code == 200


def test_publish_page_needs_an_editor(web_instance: Bylab, web_client: httpx.Client) -> None:
    anonymous = web_client.get("/datasets/new", follow_redirects=False)
    assert anonymous.status_code == 303
    assert anonymous.headers["location"] == "/login?next=%2Fdatasets%2Fnew"
    log_in(web_client, "mia")
    form = web_client.get("/datasets/new").text
    # Only organisations mia edits are offered as publisher; networks can be shared with.
    publisher_select = form.split('id="organisation"')[1].split("</select>")[0]
    assert 'value="molde"' in publisher_select and 'value="alesund"' not in publisher_select
    assert 'id="share-smart-molde"' in form


def test_unsafe_requests_without_csrf_token_are_refused(
    three_datasets: Bylab, web_client: httpx.Client
) -> None:
    log_in(web_client, "mia")
    for path, data in (
        ("/datasets/molde-internal/sharing", {"visibility": "public"}),
        ("/datasets/molde-internal/edit", {"visibility": "public", "title_en": "Leaked"}),
        ("/datasets/new", {"name": "sneaky", "title_en": "x", "organisation": "molde"}),
        ("/datasets/molde-internal/versions/new", {"note": "x"}),
    ):
        refused = web_client.post(path, data={**data, "csrf_token": "wrong"})
        assert refused.status_code == 403, path
    internal = dataset_show(three_datasets.system_context(), "molde-internal")
    assert internal.visibility == "private" and internal.title == {"en": "Internal road budget"}


def test_sharing_form_shares_with_a_network(
    three_datasets: Bylab, web_client: httpx.Client
) -> None:
    log_in(web_client, "mia")
    token = csrf_of(web_client.get("/datasets/molde-internal/sharing").text)
    no_target = web_client.post("/datasets/molde-internal/sharing",
                                data={"csrf_token": token, "visibility": "shared"})
    assert no_target.status_code == 400 and 'class="field-error"' in no_target.text
    saved = web_client.post("/datasets/molde-internal/sharing", follow_redirects=False,
                            data={"csrf_token": token, "visibility": "shared",
                                  "shared_with": ["smart-molde"]})
    assert saved.status_code == 303
    ctx = three_datasets.system_context()
    dataset = dataset_show(ctx, "molde-internal")
    assert dataset.visibility == "shared"
    assert [org.name for org in dataset_shared_with(ctx, dataset)] == ["smart-molde"]
    log_in(web_client, "ola")
    assert web_client.get("/datasets/molde-internal").status_code == 200


def test_edit_form_keeps_entries_and_names_the_bad_field(
    three_datasets: Bylab, web_client: httpx.Client
) -> None:
    log_in(web_client, "mia")
    form = web_client.get("/datasets/molde-network/edit").text
    assert 'id="share-smart-molde" name="shared_with" value="smart-molde" checked' in form
    entries = {"csrf_token": csrf_of(form), "visibility": "shared", "shared_with": "smart-molde",
               "title_nb": "Bredbånd i Molde 2022", "places": "NO-1506, NO-9999"}
    refused = web_client.post("/datasets/molde-network/edit", data=entries)
    assert refused.status_code == 400
    assert "NO-9999" in refused.text and 'value="Bredbånd i Molde 2022"' in refused.text
    assert 'id="places-error"' in refused.text
    saved = web_client.post("/datasets/molde-network/edit", follow_redirects=False,
                            data={**entries, "places": "NO-1506, NO-1508"})
    assert saved.status_code == 303
    dataset = dataset_show(three_datasets.system_context(), "molde-network")
    assert dataset.spatial == ["NO-1506", "NO-1508"] and dataset.visibility == "shared"
    assert dataset.title == {"nb": "Bredbånd i Molde 2022"}


def test_publish_form_without_a_file_keeps_the_entries(
    web_instance: Bylab, web_client: httpx.Client
) -> None:
    log_in(web_client, "mia")
    token = csrf_of(web_client.get("/datasets/new").text)
    refused = web_client.post("/datasets/new", data={
        "csrf_token": token, "name": "population-molde", "organisation": "molde",
        "title_en": "Population of Molde", "visibility": "private", "themes": "SOCI"})
    assert refused.status_code == 400
    assert 'id="file-error"' in refused.text
    assert 'value="population-molde"' in refused.text
    assert 'id="theme-SOCI" name="themes" value="SOCI" checked' in refused.text
    assert dataset_search(web_instance.system_context(), DatasetQuery()).count == 0


def _publish_form(token: str, name: str, visibility: str = "private") -> dict[str, object]:
    return {"csrf_token": token, "name": name, "organisation": "molde", "visibility": visibility,
            "title_en": "Population of Molde and Ålesund", "title_nb": "Folketal",
            "themes": "SOCI", "places": "NO-1506, NO-1508", "licence_id": "NLOD-2.0"}


def test_publish_without_javascript_then_add_a_version(
    web_instance: Bylab, web_client: httpx.Client
) -> None:
    log_in(web_client, "mia")
    token = csrf_of(web_client.get("/datasets/new").text)
    with POPULATION_CSV.open("rb") as data_file:
        published = web_client.post(
            "/datasets/new", data=_publish_form(token, "population-molde"),
            files={"file": (POPULATION_CSV.name, data_file, "text/csv")}, follow_redirects=False)
    assert published.status_code == 303, published.text
    assert published.headers["location"] == "/datasets/population-molde"
    page = web_client.get("/datasets/population-molde").text
    schema = page.split('class="schema"')[1].split("</table>")[0]
    assert re.findall(r"<code>([a-z_0-9]+)</code>", schema)[:4] == [
        "municipality_code", "municipality_name", "year", "population"]
    preview = page.split('class="preview"')[1].split("</table>")[0]
    # Molde's registered population on 1 January 2024 (SSB 07459), as in the uploaded file.
    assert re.search(r"<td>Molde</td><td class=\"num\">2024</td><td class=\"num\">32816</td>",
                     preview)
    assert preview.count("<tr>") == 1 + 31  # header row and every data row (31 < 50)
    assert 'href="/api/datasets/population-molde/download.csv"' in page
    download = web_client.get("/api/datasets/population-molde/download.csv")
    assert download.status_code == 200 and "1506,Molde,2024,32816" in download.text

    token = csrf_of(web_client.get("/datasets/population-molde/versions/new").text)
    rows_2026 = [line for line in POPULATION_CSV.read_text(encoding="utf-8").splitlines()
                 if ",2026," in line or line.startswith("municipality_code")]
    added = web_client.post(
        "/datasets/population-molde/versions/new",
        data={"csrf_token": token, "note": "2026 only"},
        files={"file": ("population_2026.csv", "\n".join(rows_2026) + "\n", "text/csv")},
        follow_redirects=False)
    assert added.status_code == 303, added.text
    latest = web_client.get("/datasets/population-molde").text
    assert "Rows 1–4 of 4" in latest and "2026 only" in latest
    first = web_client.get("/datasets/population-molde?version=1").text
    assert "Rows 1–31 of 31" in first
    assert 'href="/api/datasets/population-molde/download.csv?version=1"' in first
    assert web_client.get("/datasets/population-molde?version=3").status_code == 404


def test_preview_pages_through_rows(web_instance: Bylab, web_client: httpx.Client,
                                    tmp_path: Path) -> None:
    header, *rows = SOURCE_POPULATION.read_text(encoding="utf-8").splitlines()[:121]
    sample = tmp_path / "population_120_rows.csv"
    sample.write_text("\n".join([header, *rows]) + "\n", encoding="utf-8")
    log_in(web_client, "mia")
    token = csrf_of(web_client.get("/datasets/new").text)
    with sample.open("rb") as data_file:
        web_client.post("/datasets/new", data=_publish_form(token, "population-120", "public"),
                        files={"file": (sample.name, data_file, "text/csv")})
    second = web_client.get("/datasets/population-120?rows_from=50").text
    assert "Rows 51–100 of 120" in second
    assert 'rows_from=0#preview-h" rel="prev"' in second
    assert 'rows_from=100#preview-h" rel="next"' in second
    assert web_client.get("/datasets/population-120?rows_from=x").status_code == 400


def test_spatial_dataset_offers_geojson(web_instance: Bylab, web_client: httpx.Client) -> None:
    counties = SOURCE_POPULATION.parents[1] / "boundaries" / "se_lan_simplified.geojson"
    log_in(web_client, "mia")
    token = csrf_of(web_client.get("/datasets/new").text)
    with counties.open("rb") as data_file:
        published = web_client.post(
            "/datasets/new", data={**_publish_form(token, "se-counties", "public"), "places": ""},
            files={"file": (counties.name, data_file, "application/geo+json")},
            follow_redirects=False)
    assert published.status_code == 303, published.text
    page = web_client.get("/datasets/se-counties").text
    assert 'href="/api/datasets/se-counties/download.geojson"' in page
    assert "Rows 1–21 of 21" in page  # the file's 21 counties
    # Geometry cells are cut short in the preview rather than filling the page.
    longest_cell = max(len(html.unescape(cell))
                       for cell in re.findall(r"<td[^>]*>([^<]*)</td>", page))
    assert longest_cell <= 80
