from __future__ import annotations

import pytest

from bylab.auth import actions
from bylab.core import Bylab
from bylab.errors import Conflict, InvalidInput, NotAuthorized
from tests.conftest import PASSWORD


def test_password_is_hashed_and_checked(bylab: Bylab, accounts_setup: dict[str, str]) -> None:
    ctx = bylab.context()
    actor = actions.user_authenticate(ctx, "mia", PASSWORD)
    assert actor.username == "mia"
    with pytest.raises(NotAuthorized):
        actions.user_authenticate(ctx, "mia", "wrong password!")
    with pytest.raises(NotAuthorized):
        actions.user_authenticate(ctx, "nobody", PASSWORD)
    with bylab.db.session() as session:
        from sqlalchemy import select

        from bylab.auth.models import User

        stored = session.scalar(select(User.password_hash).where(User.username == "mia"))
    assert stored and PASSWORD not in stored and stored.startswith("$argon2")


def test_actor_reads_through_its_networks(bylab: Bylab, accounts_setup: dict[str, str]) -> None:
    mia = actions.actor_from_token(bylab.context(), accounts_setup["mia"])
    ada = actions.actor_from_token(bylab.context(), accounts_setup["ada"])
    molde = actions.organisation_show(bylab.context(), "molde")
    network = actions.organisation_show(bylab.context(), "smart-molde")
    assert mia.can_edit(molde.id) and not mia.can_admin(molde.id)
    assert network.id in mia.reader_org_ids
    assert network.id not in ada.reader_org_ids and not ada.can_edit(molde.id)


def test_unknown_token_is_refused(bylab: Bylab) -> None:
    with pytest.raises(NotAuthorized):
        actions.actor_from_token(bylab.context(), "bylab_not-a-token")


def test_bad_and_duplicate_names(bylab: Bylab) -> None:
    ctx = bylab.system_context()
    with pytest.raises(InvalidInput) as bad:
        actions.organisation_create(ctx, "Molde Kommune!", "Molde")
    assert bad.value.field == "name"
    actions.organisation_create(ctx, "molde", "Molde")
    with pytest.raises(Conflict):
        actions.organisation_create(ctx, "molde", "Molde again")


def test_only_sysadmin_creates_organisations(bylab: Bylab, accounts_setup: dict[str, str]) -> None:
    mia = bylab.context(actions.actor_from_token(bylab.context(), accounts_setup["mia"]))
    with pytest.raises(NotAuthorized):
        actions.organisation_create(mia, "rogue", "Rogue")


def test_me_endpoint_knows_the_token(client, accounts_setup: dict[str, str]) -> None:  # noqa: ANN001
    anonymous = client.get("/api/me").json()
    assert anonymous["username"] is None
    me = client.get("/api/me", headers={"Authorization": f"Bearer {accounts_setup['ola']}"}).json()
    assert me["username"] == "ola"
    assert client.get("/api/me", headers={"Authorization": "bylab_wrong"}).status_code == 403


def test_login_requires_csrf_and_sets_session(client, accounts_setup: dict[str, str]) -> None:  # noqa: ANN001
    refused = client.post("/login", data={"username": "mia", "password": PASSWORD})
    assert refused.status_code == 403
    page = client.get("/login")
    token = page.text.split('name="csrf_token" value="')[1].split('"')[0]
    wrong = client.post("/login", data={"username": "mia", "password": "nope nope",
                                        "csrf_token": token})
    assert wrong.status_code == 401 and "wrong username or password" in wrong.text
    ok = client.post("/login", data={"username": "mia", "password": PASSWORD,
                                     "csrf_token": token}, follow_redirects=False)
    assert ok.status_code == 303
    assert client.get("/api/me").json()["username"] == "mia"
    cookie = ok.headers["set-cookie"].lower()
    assert "httponly" in cookie and "samesite=lax" in cookie


def _logged_in(client, username: str) -> str:  # noqa: ANN001
    page = client.get("/login")
    token = page.text.split('name="csrf_token" value="')[1].split('"')[0]
    client.post("/login", data={"username": username, "password": PASSWORD, "csrf_token": token})
    account = client.get("/account")
    return account.text.split('name="csrf_token" value="')[1].split('"')[0]


def test_account_page_creates_lists_and_revokes_tokens(client, accounts_setup) -> None:  # noqa: ANN001
    assert client.get("/account", follow_redirects=False).headers["location"].startswith("/login")
    csrf = _logged_in(client, "ola")
    assert client.post("/account/tokens", data={"name": "nightly"}).status_code == 403
    created = client.post("/account/tokens", data={"name": "nightly", "csrf_token": csrf})
    secret = created.text.split('<code id="new-token">')[1].split("<")[0]
    assert secret.startswith("bylab_") and "nightly" in created.text
    assert client.get("/api/me", headers={"Authorization": f"Bearer {secret}"}).json()[
        "username"] == "ola"
    assert secret not in client.get("/account").text  # shown once only
    token_id = created.text.split('action="/account/tokens/')[1].split("/revoke")[0]
    client.post(f"/account/tokens/{token_id}/revoke", data={"csrf_token": csrf})
    assert client.get("/api/me", headers={"Authorization": f"Bearer {secret}"}).status_code == 403
