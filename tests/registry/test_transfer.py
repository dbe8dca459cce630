"""Import and export of registry records as CSV and JSON: round trips, all-or-nothing
imports with errors naming file, row and field, the API, the CLI, and reindexing."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import delete
from typer.testing import CliRunner

from bylab.app import create_app
from bylab.auth import actions as accounts
from bylab.core import Bylab
from bylab.errors import InvalidInput, NotAuthorized
from bylab.registry.actions import project_list
from bylab.registry.cli import app as registry_cli
from bylab.registry.index import reindex
from bylab.registry.models import SearchTerm, SearchVocabulary, SearchWord
from bylab.registry.search import registry_search
from bylab.registry.seed import registry_seed, seed_spec
from bylab.registry.transfer import registry_export, registry_import
from bylab.testing.backends import embedded_instance


@pytest.fixture
def seeded(embedded: Bylab) -> Bylab:
    registry_seed(embedded.system_context())
    return embedded


@pytest.fixture
def empty(tmp_path: Path, seeded: Bylab) -> Iterator[Bylab]:
    """Another instance with the seed's organisations but no records."""
    other = embedded_instance(tmp_path / "other")
    ctx = other.system_context()
    for org in seed_spec()["organisations"]:
        accounts.organisation_create(ctx, org["name"], org["title"], org["kind"])
    yield other
    other.close()


@pytest.mark.parametrize("format", ["json", "csv"])
def test_export_then_import_gives_the_same_records(seeded: Bylab, empty: Bylab,
                                                   format: str) -> None:
    for kind in ("project", "challenge"):
        exported = registry_export(seeded.system_context(), kind, format)  # type: ignore[arg-type]
        report = registry_import(empty.system_context(), kind, exported, format,  # type: ignore[arg-type]
                                 f"{kind}s.{format}")
        assert report.created == len(seed_spec()[f"{kind}s"]) and report.skipped == 0
        assert registry_export(empty.system_context(), kind, format) == exported  # type: ignore[arg-type]
        again = registry_import(empty.system_context(), kind, exported, format, "again")  # type: ignore[arg-type]
        assert (again.created, again.skipped) == (0, len(seed_spec()[f"{kind}s"]))
    # The imported records are searchable at once (indexed in the same transaction).
    assert registry_search(empty.context(), "vann", "nb")[0].name == "smart-molde-programme"


def test_a_bad_row_stops_the_whole_import_and_is_named(empty: Bylab) -> None:
    csv_text = ("organisation,name,title_en,domains,place_ids\n"
                "molde,test-good,Good,water,NO-1506\n"
                "molde,test-bad,Bad,waterworks,NO-1506\n")
    with pytest.raises(InvalidInput) as error:
        registry_import(empty.system_context(), "project", csv_text, "csv", "list.csv")
    assert (error.value.file, error.value.row, error.value.field) == ("list.csv", 3, "domains")
    assert project_list(empty.system_context()) == []  # nothing half-written
    bad_kpi = json.dumps([{"organisation": "molde", "name": "test-c", "title": {"en": "C"},
                           "kpi_codes": ["KPI-1"]}])
    with pytest.raises(InvalidInput) as error:
        registry_import(empty.system_context(), "challenge", bad_kpi, "json", "c.json")
    assert (error.value.row, error.value.field) == (1, "kpi_codes")
    with pytest.raises(InvalidInput) as error:
        registry_import(empty.system_context(), "project", "[{", "json", "broken.json")
    assert error.value.file == "broken.json"
    with pytest.raises(NotAuthorized):
        registry_import(empty.context(), "project", csv_text.rsplit("\n", 2)[0], "csv", "x.csv")


def test_import_and_export_over_the_api_and_cli(seeded: Bylab, empty: Bylab,
                                                tmp_path: Path,
                                                monkeypatch: pytest.MonkeyPatch) -> None:
    with TestClient(create_app(seeded), base_url="http://testserver") as api:
        exported = api.get("/api/registry/export", params={"type": "project", "format": "csv"})
        assert exported.status_code == 200
        assert exported.headers["content-type"].startswith("text/csv")
        assert exported.text.startswith("organisation,name,title_en,title_nb,title_sv,title_pl")
    accounts.user_create(empty.system_context(), "root", "correct horse battery",
                         is_sysadmin=True)
    admin = accounts.token_create(empty.system_context(), "tests", "root")
    with TestClient(create_app(empty), base_url="http://testserver") as api:
        files = {"file": ("projects.csv", exported.content, "text/csv")}
        assert api.post("/api/registry/import", files=files).status_code == 403
        imported = api.post("/api/registry/import", files=files,
                            headers={"Authorization": f"Bearer {admin}"})
        assert imported.status_code == 200, imported.text
        assert imported.json() == {"created": len(seed_spec()["projects"]), "skipped": 0}
        bad = api.post("/api/registry/import", headers={"Authorization": f"Bearer {admin}"},
                       files={"file": ("bad.json", b'[{"name": "x"}]', "application/json")})
        assert bad.status_code in {400, 404}
        assert bad.json()["error"]["file"] == "bad.json" and bad.json()["error"]["row"] == 1
    monkeypatch.setenv("BYLAB_DATA_DIR", str(empty.settings.data_dir))
    for variable in ("BYLAB_DATABASE_URL", "BYLAB_SETTINGS_FILE"):
        monkeypatch.delenv(variable, raising=False)
    runner = CliRunner()
    printed = runner.invoke(registry_cli, ["export", "--type", "project", "--format", "json"])
    assert printed.exit_code == 0, printed.output
    assert {p["name"] for p in json.loads(printed.output)} == {
        p["name"] for p in seed_spec()["projects"]}
    challenges = tmp_path / "challenges.json"
    challenges.write_text(registry_export(seeded.system_context(), "challenge", "json"),
                          encoding="utf-8")
    loaded = runner.invoke(registry_cli, ["import", str(challenges), "--type", "challenge"])
    assert loaded.exit_code == 0, loaded.output
    assert f"created {len(seed_spec()['challenges'])}, skipped 0" in loaded.output


def test_reindex_rebuilds_the_index(seeded: Bylab) -> None:
    before = [(hit.name, hit.score) for hit in registry_search(seeded.context(), "data")]
    total = sum(len(seed_spec()[kind]) for kind in ("projects", "challenges"))
    assert reindex(seeded.system_context()) == total
    assert [(hit.name, hit.score) for hit in registry_search(seeded.context(), "data")] == before


def test_an_empty_index_fills_itself_at_the_first_search(seeded: Bylab) -> None:
    """A database whose records predate the index needs no `bylab registry reindex`."""
    before = [(hit.name, hit.score) for hit in registry_search(seeded.context(), "vann")]
    with seeded.db.session() as session:
        for model in (SearchTerm, SearchWord, SearchVocabulary):
            session.execute(delete(model))
    assert [(hit.name, hit.score) for hit in registry_search(seeded.context(), "vann")] == before
    assert before


EVIDENCE = {
    "budget_amount": 2000000.5, "budget_currency": "NOK",
    "success_factors": {"en": ["Caretakers involved early", "One building first; then more"]},
    "lessons_learned": {"nb": ["Start smått"]},
    "funding": [{"funder_organisation": "more-og-romsdal-fylkeskommune", "funder_name": "",
                 "programme": "Test call", "amount": 1500000.25, "currency": "NOK",
                 "year_from": 2021, "year_to": 2022},
                {"funder_organisation": "", "funder_name": "Test fund", "programme": "",
                 "amount": None, "currency": "", "year_from": None, "year_to": None}],
    "results": [{"kpi_code": "EN: EN: AQ: 2C", "place_id": "NO-1506", "before_period": "2019",
                 "after_period": "2023", "reported_before": 5.5, "reported_after": None,
                 "reported_unit": "t / person", "reported_source": "Test report"}]}


@pytest.mark.parametrize("format", ["json", "csv"])
def test_project_evidence_round_trips(seeded: Bylab, empty: Bylab, format: str) -> None:
    """Budget, funding, results, success factors and lessons (test values, not real)."""
    body = [{"organisation": "molde", "name": "test-evidence", "title": {"en": "Test"},
             **EVIDENCE}]
    registry_import(seeded.system_context(), "project", json.dumps(body), "json", "in.json")
    exported = registry_export(seeded.system_context(), "project", format)  # type: ignore[arg-type]
    registry_import(empty.system_context(), "project", exported, format, "out")  # type: ignore[arg-type]
    records = json.loads(registry_export(empty.system_context(), "project", "json"))
    record = next(r for r in records if r["name"] == "test-evidence")
    assert {key: record[key] for key in EVIDENCE} == EVIDENCE
    assert registry_export(empty.system_context(), "project", format) == exported  # type: ignore[arg-type]


def test_bad_currency_or_kpi_in_an_import_is_named(empty: Bylab) -> None:
    base = {"organisation": "molde", "name": "test-evidence", "title": {"en": "Test"}}
    cases = [({"budget_amount": 5, "budget_currency": "KR"}, "budget_currency"),
             ({"funding": [{"funder_name": "X", "amount": 5, "currency": "EURO"}]},
              "currency"),
             ({"results": [{"kpi_code": "CO2", "place_id": "NO-1506",
                            "before_period": "2019", "after_period": "2023"}]}, "kpi_code"),
             ({"funding": [{"funder": "X"}]}, "funding")]
    for extra, field in cases:
        with pytest.raises(InvalidInput) as error:
            registry_import(empty.system_context(), "project",
                            json.dumps([{**base, **extra}]), "json", "p.json")
        assert (error.value.file, error.value.row, error.value.field) == ("p.json", 1, field)
    assert project_list(empty.system_context()) == []
