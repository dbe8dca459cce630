"""Typed relations between actors: the actions with their checks, the API, the CLI, the actor
page (with its form), the who-does-what graph, and import/export."""

from __future__ import annotations

import json
import re
from collections.abc import Iterator

import httpx
import pytest
from fastapi.testclient import TestClient
from typer.testing import CliRunner

from bylab.app import create_app
from bylab.auth import actions as accounts
from bylab.auth.models import Role
from bylab.core import Bylab
from bylab.errors import Conflict, InvalidInput, NotAuthorized, NotFound
from bylab.registry.cli import app as registry_cli
from bylab.registry.graph import registry_graph
from bylab.registry.relations import relation_add, relation_remove, relations_of
from bylab.registry.seed import registry_seed, seed_spec
from bylab.registry.transfer import registry_export, registry_import

PASSWORD = "correct horse battery"
CSRF = re.compile(r'name="csrf_token" value="([^"]+)"')


@pytest.fixture
def seeded(embedded: Bylab) -> Bylab:
    ctx = embedded.system_context()
    registry_seed(ctx)
    accounts.user_create(ctx, "mia", PASSWORD)
    accounts.membership_set(ctx, "mia", "protomore", Role.EDITOR)
    return embedded


@pytest.fixture
def web(seeded: Bylab) -> Iterator[httpx.Client]:
    with TestClient(create_app(seeded), base_url="http://testserver") as client:
        yield client


def pairs(seeded: Bylab, actor: str) -> list[tuple[str, str, str]]:
    return [(v.subject.name, v.kind.value, v.object.name)
            for v in relations_of(seeded.context(), actor)]


def test_relations_are_checked_kept_and_removed(seeded: Bylab) -> None:
    system = seeded.system_context()
    view = relation_add(system, "protomore", "supplier to", "molde", "since 2021")
    assert view.text == "ProtoMore is supplier to Molde kommune" and view.note == "since 2021"
    relation_add(system, "molde", "member-of", "smart-molde")
    assert pairs(seeded, "molde") == [("molde", "member-of", "smart-molde"),
                                      ("protomore", "supplier-to", "molde")]
    with pytest.raises(Conflict) as twice:
        relation_add(system, "protomore", "supplier-to", "molde")
    assert twice.value.message == "'protomore' is already a supplier to 'molde'"
    assert twice.value.message_id == "'{subject}' is already a supplier to '{object}'"
    with pytest.raises(InvalidInput) as unknown:
        relation_add(system, "protomore", "friend-of", "molde")
    assert unknown.value.field == "kind" and "supplier-to" in unknown.value.message
    with pytest.raises(InvalidInput) as itself:
        relation_add(system, "molde", "owned-by", "molde")
    assert itself.value.field == "other"
    with pytest.raises(InvalidInput) as missing:
        relation_add(system, "molde", "owned-by", "no-such-org")
    assert missing.value.field == "other"
    with pytest.raises(NotAuthorized):
        relation_add(seeded.context(), "alesund", "member-of", "smart-molde")
    relation_remove(system, "protomore", "supplier-to", "molde")
    with pytest.raises(NotFound) as gone:
        relation_remove(system, "protomore", "supplier-to", "molde")
    assert gone.value.message == "'protomore' is not a supplier to 'molde'"
    assert pairs(seeded, "molde") == [("molde", "member-of", "smart-molde")]


def test_relations_join_the_who_does_what_graph(seeded: Bylab) -> None:
    system = seeded.system_context()
    relation_add(system, "capgemini-polska", "supplier-to", "molde")
    relation_add(system, "molde", "partner-in", "alesund")
    graph = registry_graph(seeded.context(), region="NO-15")
    edges = {(e.source, e.target, e.relation) for e in graph.edges}
    assert ("actor:capgemini-polska", "actor:molde", "supplier to") in edges
    assert ("actor:molde", "actor:alesund", "partner in") in edges
    assert "actor:capgemini-polska" in {node.id for node in graph.nodes}  # one step out
    municipalities = registry_graph(seeded.context(), region="NO-15", actor_kind="municipality")
    assert "actor:capgemini-polska" not in {node.id for node in municipalities.nodes}
    assert ("actor:molde", "actor:alesund", "partner in") in {
        (e.source, e.target, e.relation) for e in municipalities.edges}


def test_relations_api_and_editors_only(web: httpx.Client, seeded: Bylab) -> None:
    token = accounts.token_create(seeded.system_context(), "tests", "mia")
    mia = {"Authorization": f"Bearer {token}"}
    url = "/api/actors/protomore/relations"
    assert web.post(url, json={"kind": "supplier-to", "other": "molde"}).status_code == 403
    added = web.post(url, headers=mia, json={"kind": "supplier-to", "other": "molde",
                                             "note": "sensors"})
    assert added.status_code == 201, added.text
    assert added.json() == {"subject": "protomore", "kind": "supplier-to",
                            "label": "supplier to", "object": "molde", "note": "sensors"}
    assert web.post(url, headers=mia, json={"kind": "supplier-to",
                                            "other": "molde"}).status_code == 409
    assert web.post("/api/actors/molde/relations", headers=mia,
                    json={"kind": "member-of", "other": "smart-molde"}).status_code == 403
    assert [r["subject"] for r in web.get("/api/actors/molde/relations").json()] == [
        "protomore"]
    assert web.get("/api/actors/no-such/relations").status_code == 404
    assert web.delete(f"{url}/supplier-to/molde", headers=mia).status_code == 204
    assert web.get(url).json() == []


def test_actor_page_shows_and_edits_relations(web: httpx.Client, seeded: Bylab) -> None:
    relation_add(seeded.system_context(), "molde", "member-of", "smart-molde")
    page = web.get("/registry/actors/smart-molde").text
    assert "Molde kommune" in page and "member of" in page and "Add relation" not in page
    token = CSRF.search(web.get("/login").text).group(1)  # type: ignore[union-attr]
    web.post("/login", data={"username": "mia", "password": PASSWORD, "csrf_token": token})
    page = web.get("/registry/actors/protomore").text
    assert "Add relation" in page
    csrf = CSRF.search(page).group(1)  # type: ignore[union-attr]
    form = {"kind": "supplier-to", "other": "alesund", "note": "prototypes"}
    assert web.post("/registry/actors/protomore/relations", data=form).status_code == 403
    done = web.post("/registry/actors/protomore/relations", data={**form, "csrf_token": csrf},
                    follow_redirects=False)
    assert done.status_code == 303
    page = web.get("/registry/actors/protomore").text
    assert "supplier to" in page and "Ålesund kommune" in page and "prototypes" in page
    web.post("/registry/actors/protomore/relations", data={
        "kind": "supplier-to", "other": "alesund", "action": "remove", "csrf_token": csrf})
    assert pairs(seeded, "protomore") == []


def test_relations_export_and_import(seeded: Bylab, monkeypatch: pytest.MonkeyPatch,
                                     tmp_path: object) -> None:
    system = seeded.system_context()
    relation_add(system, "protomore", "supplier-to", "molde", "sensors, maintenance")
    relation_add(system, "molde", "member-of", "smart-molde")
    as_csv = registry_export(system, "relation", "csv")
    assert as_csv.splitlines()[0] == "organisation,relation,other,note"
    as_json = json.loads(registry_export(system, "relation", "json"))
    assert {"organisation": "molde", "relation": "member-of", "other": "smart-molde",
            "note": ""} in as_json
    seeded_count = len(seed_spec()["relations"])
    assert len(as_json) == seeded_count + 2
    again = registry_import(system, "relation", as_csv, "csv", "relations.csv")
    assert (again.created, again.skipped) == (0, seeded_count + 2)
    bad = "organisation,relation,other,note\nmolde,owned-by,alesund,\nmolde,likes,alesund,\n"
    with pytest.raises(InvalidInput) as error:
        registry_import(system, "relation", bad, "csv", "bad.csv")
    assert (error.value.file, error.value.row, error.value.field) == ("bad.csv", 3, "kind")
    assert ("molde", "owned-by", "alesund") not in pairs(seeded, "molde")  # all or none
    new = '[{"organisation": "alesund", "relation": "partner in", "other": "molde"}]'
    assert registry_import(system, "relation", new, "json", "new.json").created == 1
    monkeypatch.setenv("BYLAB_DATA_DIR", str(seeded.settings.data_dir))
    for variable in ("BYLAB_DATABASE_URL", "BYLAB_SETTINGS_FILE"):
        monkeypatch.delenv(variable, raising=False)
    runner = CliRunner()
    printed = runner.invoke(registry_cli, ["relate", "alesund", "member-of", "smart-molde"])
    assert printed.exit_code == 0, printed.output
    assert "Ålesund kommune is member of Smart Molde" in printed.output
    listed = runner.invoke(registry_cli, ["relations", "alesund"])
    assert listed.output.splitlines() == ["alesund member of smart-molde",
                                          "alesund partner in molde"]
    assert runner.invoke(registry_cli, ["unrelate", "alesund", "member-of",
                                        "smart-molde"]).exit_code == 0
    exported = runner.invoke(registry_cli, ["export", "--type", "relation"])
    assert len(json.loads(exported.output)) == seeded_count + 3
