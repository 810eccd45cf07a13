"""Who may call the API: tokens, the login link and the session cookie."""

import httpx
from sqlalchemy import select

from accord.server.auth import SESSION_COOKIE, issue_login_link
from accord.storage.tables import api_tokens
from server.conftest import ApiUser, LiveServer


def test_requests_without_a_valid_token_are_refused(any_live_server: LiveServer) -> None:
    with any_live_server.client() as anonymous:
        response = anonymous.get("/api/v1/me")
    assert response.status_code == 401
    assert response.json()["error"]["code"] == "unauthorized"
    with any_live_server.client("acc_not-a-real-token") as forger:
        assert forger.get("/api/v1/me").status_code == 401


def test_a_token_acts_as_its_user(any_live_server: LiveServer) -> None:
    from server.conftest import make_user

    alice = make_user(any_live_server, "Alice")
    me = alice.api.get("/me").json()
    assert me["id"] == alice.id and me["displayName"] == "Alice"
    renamed = alice.api.patch("/me", json={"displayName": "Alice Liddell"})
    assert renamed.status_code == 200
    assert alice.api.get("/me").json()["displayName"] == "Alice Liddell"


def test_a_new_token_is_shown_once_stored_hashed_and_revocable(
    live_server: LiveServer, alice: ApiUser
) -> None:
    created = alice.api.post("/tokens", json={"name": "laptop", "expiresInDays": 30})
    assert created.status_code == 201
    body = created.json()
    secret = body["token"]
    assert secret.startswith("acc_") and body["expiresAt"] is not None

    listed = alice.api.get("/tokens").json()
    assert sorted(t["name"] for t in listed) == ["laptop", "tests"]
    assert all("token" not in t for t in listed)
    with live_server.db.session() as s:
        hashes = s.execute(select(api_tokens.c.token_hash)).scalars().all()
    assert secret not in hashes

    with live_server.client(secret) as laptop:
        assert laptop.get("/api/v1/me").json()["id"] == alice.id
        assert alice.api.delete(f"/tokens/{body['id']}").status_code == 204
        assert laptop.get("/api/v1/me").status_code == 401


def test_another_users_token_cannot_be_revoked(alice: ApiUser, bob: ApiUser) -> None:
    bobs = bob.api.post("/tokens", json={"name": "bob's"}).json()
    response = alice.api.delete(f"/tokens/{bobs['id']}")
    assert response.status_code == 404
    assert response.json()["error"]["code"] == "not_found"
    assert sorted(t["name"] for t in bob.api.get("/tokens").json()) == ["bob's", "tests"]


def test_the_login_link_works_once_and_sets_a_session_cookie(
    live_server: LiveServer, alice: ApiUser
) -> None:
    with live_server.db.session() as s:
        link = issue_login_link(s, user_id=alice.id, base_url=live_server.base_url)
    with httpx.Client(timeout=10) as browser:
        response = browser.get(link)
        assert response.status_code == 303 and response.headers["location"] == "/"
        cookie = response.cookies[SESSION_COOKIE]
        assert "httponly" in response.headers["set-cookie"].lower()
        assert browser.get(f"{live_server.base_url}/api/v1/me").json()["id"] == alice.id

    with httpx.Client(timeout=10) as second_browser:
        reused = second_browser.get(link)
        assert reused.status_code == 401
        assert "already been used" in reused.text
        assert second_browser.get(f"{live_server.base_url}/api/v1/me").status_code == 401

    # The session is a cookie, not an API token: it is not listed and cannot be revoked there.
    assert [t["name"] for t in alice.api.get("/tokens").json()] == ["tests"]
    with live_server.client(cookie) as as_bearer:
        assert as_bearer.get("/api/v1/me").json()["id"] == alice.id
