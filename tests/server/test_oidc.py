"""Signing in through an OpenID Connect provider (a real one on 127.0.0.1, `oidc_provider`)."""

from collections.abc import Iterator

import httpx
import pytest
import uvicorn
from support import free_port

from accord.server.auth import SESSION_COOKIE
from accord.server.oidc import OidcSettings
from accord.storage.repositories.users import UserRepository
from server.conftest import LiveServer, _live_server
from server.oidc_provider import CLIENT_ID, CLIENT_SECRET, Provider


@pytest.fixture(scope="module")
def provider() -> Iterator[Provider]:
    import threading
    import time

    port = free_port()
    provider = Provider(issuer=f"http://127.0.0.1:{port}")
    server = uvicorn.Server(
        uvicorn.Config(provider.app(), host="127.0.0.1", port=port, log_level="warning")
    )
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    while not server.started:
        time.sleep(0.02)
    yield provider
    server.should_exit = True
    thread.join(timeout=10)


@pytest.fixture(scope="module")
def oidc_server(
    provider: Provider, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[LiveServer]:
    url = f"sqlite:///{tmp_path_factory.mktemp('oidc') / 'accord.db'}"
    settings = OidcSettings(
        issuer=provider.issuer, client_id=CLIENT_ID, client_secret=CLIENT_SECRET
    )
    yield from _live_server(url, oidc=settings)


def _sign_in(server: LiveServer) -> tuple[httpx.Client, httpx.Response]:
    browser = httpx.Client(base_url=server.base_url, timeout=10, follow_redirects=True)
    return browser, browser.get("/auth/oidc/login")


def test_a_known_user_signs_in_through_the_provider(
    oidc_server: LiveServer, provider: Provider
) -> None:
    with oidc_server.db.session() as s:
        user = UserRepository(s).create(email="Kim@Example.test", display_name="Kim")
    methods = httpx.get(f"{oidc_server.base_url}/api/v1/sign-in-methods").json()
    assert methods == {"password": True, "oidc": True}

    provider.person = {"email": "kim@example.test", "email_verified": True, "name": "Kim"}
    browser, landed = _sign_in(oidc_server)
    assert [r.status_code for r in landed.history] == [303, 307, 303]
    assert landed.url.path == "/" and SESSION_COOKIE in browser.cookies
    assert browser.get("/api/v1/me").json()["id"] == user.id


def test_the_provider_alone_lets_nobody_in(oidc_server: LiveServer, provider: Provider) -> None:
    provider.person = {"email": "stranger@example.test", "email_verified": True}
    browser, landed = _sign_in(oidc_server)
    assert landed.status_code == 401 and "has no account here" in landed.text
    assert browser.get("/api/v1/me").status_code == 401

    provider.person = {"email": "kim@example.test", "email_verified": False}
    _, unverified = _sign_in(oidc_server)
    assert unverified.status_code == 401 and "verified email" in unverified.text


def test_a_callback_without_the_flow_it_started_is_refused(
    oidc_server: LiveServer, provider: Provider
) -> None:
    provider.person = {"email": "kim@example.test", "email_verified": True}
    with httpx.Client(base_url=oidc_server.base_url, timeout=10) as browser:
        to_provider = browser.get("/auth/oidc/login")
        back = httpx.get(to_provider.headers["location"], follow_redirects=False)
        callback = back.headers["location"]
        forged = callback.replace("state=", "state=x")
        assert browser.get(forged).status_code == 401
    with httpx.Client(timeout=10) as other_browser:  # without the flow's cookie
        refused = other_browser.get(callback)
        assert refused.status_code == 401 and "try again" in refused.text
        assert SESSION_COOKIE not in other_browser.cookies
