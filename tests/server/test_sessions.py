"""Sessions done right: password sign-in, sign-out, revocation that ends open event streams,
the same-origin rule for cookie-signed writes, idle and disabled users, and admin users."""

import time

import httpx
import pytest

from accord.server.auth import SESSION_COOKIE
from accord.storage.repositories.users import UserRepository
from server.conftest import LiveServer, append_event, insert_execution, make_user

PASSWORD = "correct horse battery"


def _browser(server: LiveServer, email: str, *, origin: str | None = None) -> httpx.Client:
    """A browser signed in with its password (sending its own Origin, as browsers do)."""
    client = httpx.Client(
        base_url=server.base_url, timeout=10, headers={"Origin": origin or server.base_url}
    )
    response = client.post("/api/v1/session", json={"email": email, "password": PASSWORD})
    assert response.status_code == 200, response.text
    assert "httponly" in response.headers["set-cookie"].lower()
    return client


def _user_with_password(server: LiveServer, *, admin: bool = False) -> tuple[str, str]:
    email = f"u{time.monotonic_ns()}@example.test"
    with server.db.session() as s:
        user = UserRepository(s).create(
            email=email, display_name="Pat", password=PASSWORD, is_admin=admin
        )
    return user.id, email


def _ends_within(response: httpx.Response, seconds: float) -> float:
    """Read the stream until the server closes it; how long that took."""
    start = time.monotonic()
    for _ in response.iter_lines():
        assert time.monotonic() - start < seconds, "the stream is still open"
    return time.monotonic() - start


def test_password_sign_in_and_sign_out(live_server: LiveServer) -> None:
    user_id, email = _user_with_password(live_server)
    with httpx.Client(base_url=live_server.base_url, timeout=10) as anonymous:
        wrong = anonymous.post("/api/v1/session", json={"email": email, "password": "nope"})
        assert wrong.status_code == 401 and SESSION_COOKIE not in wrong.cookies
        unknown = anonymous.post(
            "/api/v1/session", json={"email": "nobody@example.test", "password": PASSWORD}
        )
        assert unknown.json()["error"]["message"] == wrong.json()["error"]["message"]
    browser = _browser(live_server, email.upper())  # emails compare case-insensitively
    assert browser.get("/api/v1/me").json()["id"] == user_id
    sessions = browser.get("/api/v1/me/sessions").json()
    assert [s["current"] for s in sessions] == [True]
    stolen = browser.cookies[SESSION_COOKIE]
    assert browser.delete("/api/v1/session").status_code == 204
    assert browser.get("/api/v1/me").status_code == 401
    # The cookie a thief copied before sign-out is dead too.
    with httpx.Client(base_url=live_server.base_url, cookies={SESSION_COOKIE: stolen}) as thief:
        assert thief.get("/api/v1/me").status_code == 401


def test_cookie_signed_writes_from_another_origin_are_refused(live_server: LiveServer) -> None:
    _, email = _user_with_password(live_server)
    browser = _browser(live_server, email)
    cookie = browser.cookies[SESSION_COOKIE]
    execution_id = insert_execution(live_server.db, browser.get("/api/v1/me").json()["id"])
    for headers in ({"Origin": "https://evil.example"}, {"Referer": "https://evil.example/x"}, {}):
        with httpx.Client(
            base_url=live_server.base_url, cookies={SESSION_COOKIE: cookie}, headers=headers
        ) as forged:
            for path in (f"/executions/{execution_id}/cancel", "/projects"):
                response = forged.post(f"/api/v1{path}", json={"name": "p"})
                assert response.status_code == 403, (headers, path, response.text)
                assert "Origin" in response.json()["error"]["message"]
            # Reading is not a state change: a GET with the cookie still works (SameSite and
            # CORS keep other sites from reading the answer).
            assert forged.get("/api/v1/me").status_code == 200
    assert browser.post("/api/v1/projects", json={"name": "mine"}).status_code == 201
    # A script with a bearer token sends no Origin and needs none.
    alice = make_user(live_server)
    assert alice.api.post("/projects", json={"name": "scripted"}).status_code == 201


def test_revoking_a_token_ends_its_open_event_streams(live_server: LiveServer) -> None:
    alice = make_user(live_server)
    execution_id = insert_execution(live_server.db, alice.id)
    made = alice.api.post("/tokens", json={"name": "watcher", "scope": "read"}).json()
    assert made["scope"] == "read"
    watcher = httpx.Client(
        base_url=f"{live_server.base_url}/api/v1",
        headers={"Authorization": f"Bearer {made['token']}"},
        timeout=httpx.Timeout(10, read=10),
    )
    with (
        watcher.stream("GET", f"/executions/{execution_id}/events") as execution_stream,
        watcher.stream("GET", "/events") as user_stream,
    ):
        assert execution_stream.status_code == user_stream.status_code == 200
        append_event(live_server.db, execution_id=execution_id, user_id=alice.id, kind="x")
        assert alice.api.delete(f"/tokens/{made['id']}").status_code == 204
        took = _ends_within(execution_stream, seconds=5)
        _ends_within(user_stream, seconds=5)
    print(f"stream closed {took:.2f} s after the token was revoked")
    assert watcher.get("/me").status_code == 401


def test_disabling_a_user_ends_their_sessions_and_streams(live_server: LiveServer) -> None:
    user_id, email = _user_with_password(live_server)
    browser = _browser(live_server, email)
    with browser.stream("GET", "/api/v1/events", timeout=httpx.Timeout(10, read=10)) as events:
        assert events.status_code == 200
        with live_server.db.session() as s:
            UserRepository(s).set_disabled(user_id, True)
        _ends_within(events, seconds=5)
    assert browser.get("/api/v1/me").status_code == 401
    again = httpx.post(
        f"{live_server.base_url}/api/v1/session", json={"email": email, "password": PASSWORD}
    )
    assert again.status_code == 401


def test_an_idle_session_ends(live_server: LiveServer) -> None:
    user_id, email = _user_with_password(live_server)
    browser = _browser(live_server, email)
    assert browser.get("/api/v1/me").status_code == 200
    # Thirteen hours without use, past the default idle limit of twelve.
    from sqlalchemy import update

    from accord.storage.tables import api_tokens

    with live_server.db.session() as s:
        s.execute(
            update(api_tokens)
            .where(api_tokens.c.user_id == user_id, api_tokens.c.kind == "session")
            .values(last_used_at=int(time.time()) - 13 * 3600)
        )
    response = browser.get("/api/v1/me")
    assert response.status_code == 401 and "idle" in response.json()["error"]["message"]


def test_tokens_with_a_narrow_scope_do_only_that(live_server: LiveServer) -> None:
    alice = make_user(live_server)
    execution_id = insert_execution(live_server.db, alice.id)
    tokens = {
        scope: alice.api.post("/tokens", json={"name": scope, "scope": scope}).json()["token"]
        for scope in ("read", "run")
    }
    with live_server.client(tokens["read"]) as reader:
        assert reader.get(f"/api/v1/executions/{execution_id}").status_code == 200
        refused = reader.post(f"/api/v1/executions/{execution_id}/cancel")
        assert refused.status_code == 403
        assert "scope is read" in refused.json()["error"]["message"]
        # A narrow token cannot mint a wider one.
        assert reader.post("/api/v1/tokens", json={"name": "x"}).status_code == 403
    with live_server.client(tokens["run"]) as runner:
        assert runner.post("/api/v1/agents", json={"name": "A", "role": "r"}).status_code == 403


def test_administrators_manage_users_and_the_last_one_stays(live_server: LiveServer) -> None:
    admin_id, admin_email = _user_with_password(live_server, admin=True)
    admin = _browser(live_server, admin_email)
    made = admin.post(
        "/api/v1/users",
        json={"email": "new@example.test", "displayName": "New", "password": PASSWORD},
    )
    assert made.status_code == 201 and made.json()["hasPassword"] is True
    assert (
        admin.post(
            "/api/v1/users", json={"email": "NEW@example.test", "displayName": "Dup"}
        ).status_code
        == 409
    )
    newcomer = _browser(live_server, "new@example.test")
    assert newcomer.get("/api/v1/users").status_code == 403
    reset = admin.patch(f"/api/v1/users/{made.json()['id']}", json={"password": "another long one"})
    assert reset.status_code == 200
    assert newcomer.get("/api/v1/me").status_code == 401  # a new password ends their sessions
    short = admin.patch(f"/api/v1/users/{made.json()['id']}", json={"password": "short"})
    assert short.status_code == 422 and "10" in short.json()["error"]["message"]
    with live_server.db.session() as s:
        others = [u.id for u in UserRepository(s).list() if u.is_admin and u.id != admin_id]
        for other in others:
            UserRepository(s).set_admin(other, False)
    last = admin.patch(f"/api/v1/users/{admin_id}", json={"disabled": True})
    assert last.status_code == 409 and "last enabled administrator" in last.text


@pytest.mark.parametrize("scope", ["read", "run"])
def test_mcp_needs_a_full_token(live_server: LiveServer, scope: str) -> None:
    alice = make_user(live_server)
    secret = alice.api.post("/tokens", json={"name": scope, "scope": scope}).json()["token"]
    response = httpx.post(
        f"{live_server.base_url}/mcp",
        headers={"Authorization": f"Bearer {secret}"},
        json={"jsonrpc": "2.0", "id": 1, "method": "ping"},
    )
    assert response.status_code == 403 and "scope" in response.text


def test_password_guessing_is_slowed_down(live_server: LiveServer) -> None:
    _, email = _user_with_password(live_server)
    with httpx.Client(base_url=live_server.base_url, timeout=10) as guesser:
        answers = [
            guesser.post("/api/v1/session", json={"email": email, "password": f"guess {n}"})
            for n in range(11)
        ]
        assert [a.status_code for a in answers] == [401] * 10 + [429]
        # Even the right password waits: the guesser cannot tell when they found it.
        right = guesser.post("/api/v1/session", json={"email": email, "password": PASSWORD})
        assert right.status_code == 429 and "try again in" in right.json()["error"]["message"]
    other_id, other = _user_with_password(live_server)
    assert _browser(live_server, other).get("/api/v1/me").json()["id"] == other_id
