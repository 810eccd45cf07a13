"""The built UI at `/` with single-page-app fallback, and a clear page when it is not built."""

from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from server.conftest import LiveServer, _live_server


@pytest.fixture(scope="module")
def built_ui(tmp_path_factory: pytest.TempPathFactory) -> Path:
    static = tmp_path_factory.mktemp("static")
    (static / "index.html").write_text("<!doctype html><title>Accord UI</title><div id=root>")
    (static / "assets").mkdir()
    (static / "assets" / "app.js").write_text("console.log('accord')")
    return static


@pytest.fixture(scope="module")
def ui_server(sqlite_url: str, built_ui: Path) -> Iterator[LiveServer]:
    yield from _live_server(sqlite_url, static_dir=built_ui)


@pytest.fixture(scope="module")
def unbuilt_server(
    sqlite_url: str, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[LiveServer]:
    yield from _live_server(sqlite_url, static_dir=tmp_path_factory.mktemp("empty"))


def test_the_app_and_its_assets_are_served(ui_server: LiveServer) -> None:
    with httpx.Client(base_url=ui_server.base_url) as browser:
        index = browser.get("/")
        assert index.status_code == 200 and "Accord UI" in index.text
        asset = browser.get("/assets/app.js")
        assert asset.status_code == 200 and "console.log" in asset.text
        assert "javascript" in asset.headers["content-type"]


def test_deep_links_load_the_app_but_api_paths_stay_json(ui_server: LiveServer) -> None:
    with httpx.Client(base_url=ui_server.base_url) as browser:
        deep = browser.get("/executions/1234/monitor")
        assert deep.status_code == 200 and "Accord UI" in deep.text
        api = browser.get("/api/v1/no-such-thing")
        assert api.status_code == 404
        assert api.json()["error"]["code"] == "not_found"
        escape = browser.get("/assets/../../../../etc/passwd")
        assert "root:" not in escape.text
        assert browser.get("/openapi.json").json()["info"]["title"] == "Accord"


def test_without_a_build_the_page_says_how_to_build_it(unbuilt_server: LiveServer) -> None:
    with httpx.Client(base_url=unbuilt_server.base_url) as browser:
        page = browser.get("/")
    assert page.status_code == 200
    assert "text/html" in page.headers["content-type"]
    assert "./dev setup" in page.text and "npm run build" in page.text
