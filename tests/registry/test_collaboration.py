"""Following, comments, the notification feed (with e-mail through a real local SMTP server),
and the matching API and CLI."""

from __future__ import annotations

import socket
from collections.abc import Iterator
from email import message_from_bytes
from email.message import Message
from pathlib import Path

import httpx
import pytest
from aiosmtpd.controller import Controller
from fastapi.testclient import TestClient
from sqlalchemy import select
from typer.testing import CliRunner

from bylab.app import create_app
from bylab.auth import actions as accounts
from bylab.auth.models import Role
from bylab.core import Bylab
from bylab.registry.cli import app as registry_cli
from bylab.registry.models import Notification
from bylab.registry.seed import registry_seed
from bylab.testing.backends import embedded_instance


class Inbox:
    """aiosmtpd handler keeping every message it receives."""

    def __init__(self) -> None:
        self.messages: list[Message] = []

    async def handle_DATA(self, server: object, session: object, envelope: object) -> str:  # noqa: N802
        self.messages.append(message_from_bytes(envelope.content))  # type: ignore[attr-defined]
        return "250 OK"


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@pytest.fixture
def inbox() -> Iterator[tuple[Inbox, int]]:
    handler, port = Inbox(), free_port()
    controller = Controller(handler, hostname="127.0.0.1", port=port)
    controller.start()
    yield handler, port
    controller.stop()


@pytest.fixture
def instance(tmp_path: Path, inbox: tuple[Inbox, int]) -> Iterator[Bylab]:
    """The seed, with editors mia (Molde) and ola (Ålesund, e-mail ola@example.org), and the
    local SMTP sink as mail server."""
    bylab = embedded_instance(tmp_path / "data", smtp_host="127.0.0.1", smtp_port=inbox[1])
    ctx = bylab.system_context()
    registry_seed(ctx)
    for username, organisation, email in (("mia", "molde", ""),
                                          ("ola", "alesund", "ola@example.org")):
        accounts.user_create(ctx, username, "correct horse battery", email=email)
        accounts.membership_set(ctx, username, organisation, Role.EDITOR)
    yield bylab
    bylab.close()


@pytest.fixture
def api(instance: Bylab) -> Iterator[httpx.Client]:
    with TestClient(create_app(instance), base_url="http://testserver") as client:
        yield client


def bearer(instance: Bylab, username: str) -> dict[str, str]:
    token = accounts.token_create(instance.system_context(), "tests", username)
    return {"Authorization": f"Bearer {token}"}


def test_followers_hear_of_comments_and_stage_changes(
        api: httpx.Client, instance: Bylab, inbox: tuple[Inbox, int]) -> None:
    mia, ola = bearer(instance, "mia"), bearer(instance, "ola")
    project = "/api/projects/smart-data-molde-alesund-kristiansund"
    assert api.put(f"{project}/follow").status_code == 403  # anonymous
    assert api.put(f"{project}/follow", headers=ola).json()["following"] is True
    assert api.put(f"{project}/follow", headers=ola).status_code == 200  # again: no change
    moved = api.post(f"{project}/stage", headers=mia,
                     json={"stage": "operation", "reason": "all three run it"})
    assert moved.status_code == 200, moved.text
    comment = api.post(f"{project}/comments", headers=mia, json={"body": "  Data is live.  "})
    assert comment.status_code == 201 and comment.json()["body"] == "Data is live."
    assert api.post(f"{project}/comments", headers=mia, json={"body": " "}).status_code == 400
    assert [c["author"] for c in api.get(f"{project}/comments").json()] == ["mia"]
    feed = api.get("/api/notifications", headers=ola).json()
    assert [n["message"] for n in feed] == [
        "mia commented on project 'Smart data – shared data work of Molde, Ålesund and "
        "Kristiansund'",
        "mia moved project 'Smart data – shared data work of Molde, Ålesund and Kristiansund' "
        "to stage 'operation': all three run it"]
    assert {n["by"] for n in feed} == {"mia"} and not any(n["read"] for n in feed)
    assert api.get("/api/notifications", headers=mia).json() == []  # not of her own doing
    mails = inbox[0].messages
    assert [mail["To"] for mail in mails] == ["ola@example.org"] * 2
    assert mails[0]["Subject"].startswith("bylab: mia moved project")
    assert "/registry/projects/smart-data-molde-alesund-kristiansund" in mails[0].get_payload()
    assert api.post("/api/notifications/read", headers=ola).json() == {"marked": 2}
    assert api.get("/api/notifications", headers=ola, params={"unread": True}).json() == []
    # mia follows by commenting; ola's comment reaches her, not ola.
    api.post(f"{project}/comments", headers=ola, json={"body": "Thanks"})
    assert len(api.get("/api/notifications", headers=mia).json()) == 1
    assert api.delete(f"{project}/follow", headers=ola).json()["following"] is False
    api.post(f"{project}/comments", headers=mia, json={"body": "More data"})
    assert len(api.get("/api/notifications", headers=ola).json()) == 2  # unfollowed: no more


def test_follow_needs_a_real_record_and_type(api: httpx.Client, instance: Bylab) -> None:
    ola = bearer(instance, "ola")
    assert api.put("/api/projects/no-such/follow", headers=ola).status_code == 404
    assert api.put("/api/datasets/x/follow", headers=ola).status_code in {404, 405, 422}
    assert api.put("/api/challenges/city-as-a-platform-silos/follow",
                   headers=ola).status_code == 200


def test_matches_api_and_cli(api: httpx.Client, instance: Bylab,
                             monkeypatch: pytest.MonkeyPatch) -> None:
    response = api.get("/api/challenges/city-as-a-platform-silos/matches")
    assert response.status_code == 200
    matches = response.json()
    assert matches and {"type", "id", "title", "score", "reason", "reasons"} <= set(matches[0])
    assert {match["type"] for match in matches} == {"project", "actor"}
    assert all(match["reasons"] for match in matches)
    assert "city-as-a-platform" not in {match["name"] for match in matches}  # the owner
    top_project = next(match for match in matches if match["type"] == "project")
    assert top_project["name"] == "smart-data-molde-alesund-kristiansund"
    assert [r["kind"] for r in top_project["reasons"]] == ["domain", "domain", "stage"]
    assert api.get("/api/challenges/no-such/matches").status_code == 404
    similar = api.get("/api/projects/smart-molde-programme/similar").json()
    assert "molde" not in {match["name"] for match in similar}
    monkeypatch.setenv("BYLAB_DATA_DIR", str(instance.settings.data_dir))
    for variable in ("BYLAB_DATABASE_URL", "BYLAB_SETTINGS_FILE"):
        monkeypatch.delenv(variable, raising=False)
    printed = CliRunner().invoke(registry_cli, ["matches", "city-as-a-platform-silos"])
    assert printed.exit_code == 0, printed.output
    assert "smart-data-molde-alesund-kristiansund" in printed.output
    assert "- shared domain: governance" in printed.output


def test_mail_goes_out_after_the_change_commits(api: httpx.Client, instance: Bylab,
                                                inbox: tuple[Inbox, int]) -> None:
    """While the mail server handles the message, another connection already sees the
    notification: the writing transaction was over before the mail was sent."""
    seen: list[int] = []
    handler = inbox[0]
    keep = handler.handle_DATA

    async def handle_data(server: object, session: object, envelope: object) -> str:
        with instance.db.session() as reader:
            seen.append(len(list(reader.scalars(select(Notification)))))
        return await keep(server, session, envelope)

    handler.handle_DATA = handle_data  # type: ignore[method-assign]
    project = "/api/projects/smart-data-molde-alesund-kristiansund"
    api.put(f"{project}/follow", headers=bearer(instance, "ola"))
    response = api.post(f"{project}/comments", headers=bearer(instance, "mia"),
                        json={"body": "Data is live."})
    assert response.status_code == 201
    assert seen == [1] and len(handler.messages) == 1
