"""Browser end-to-end fixtures: a real `accord serve` subprocess and Debian's Chromium.

The server runs on a free port with a temporary ACCORD_DATA_DIR (its own SQLite database),
no provider keys in its environment, and prints the one-time login link we sign in with.
Chromium is `/usr/bin/chromium`, driven by Playwright; nothing downloads a browser.
Screenshots go to `test-artifacts/e2e/`.
"""

from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from playwright.sync_api import Browser, BrowserContext, Page, sync_playwright

from tests.e2e.server import CHROMIUM, CHROMIUM_ARGS, ROOT, Server, ServerError, running_server

ARTIFACTS = ROOT / "test-artifacts" / "e2e"


@pytest.fixture(scope="module")
def accord_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    try:
        with running_server(
            tmp_path_factory.mktemp("accord-data"), log=ARTIFACTS / "server.log"
        ) as server:
            yield server
    except ServerError as exc:
        pytest.fail(str(exc))


# Module scope, not session: Playwright's sync API keeps an event loop running on this
# thread while it is open, which would break every asyncio test collected after these.
@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    if not Path(CHROMIUM).is_file():
        pytest.fail(f"no Chromium at {CHROMIUM}: apt-get install chromium (./dev test does)")
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield browser
        browser.close()


@pytest.fixture(scope="module")
def signed_in_state(accord_server: Server, browser: Browser) -> dict:
    """Signs in once through the printed one-time link; later pages reuse the session cookie."""
    context = browser.new_context()
    page = context.new_page()
    page.goto(accord_server.login_link)
    page.get_by_role("navigation", name="Main").wait_for()
    state = context.storage_state()
    context.close()
    return state


@pytest.fixture
def context(
    browser: Browser, signed_in_state: dict, accord_server: Server
) -> Iterator[BrowserContext]:
    context = browser.new_context(
        storage_state=signed_in_state,
        base_url=accord_server.base_url,
        viewport={"width": 1280, "height": 800},
        # Tests seed data through `page.request` with the session cookie; the server takes
        # cookie-signed writes only from its own origin, as the app's own fetches are.
        extra_http_headers={"Origin": accord_server.base_url},
    )
    context.set_default_timeout(20_000)
    yield context
    context.close()


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo) -> pytest.TestReport:
    report = yield
    if report.when == "call":
        item.call_failed = report.failed  # type: ignore[attr-defined]
    return report


@pytest.fixture
def page(context: BrowserContext, request: pytest.FixtureRequest) -> Iterator[Page]:
    page = context.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    page.page_errors = errors  # type: ignore[attr-defined]
    yield page
    if getattr(request.node, "call_failed", False):
        # What the browser showed when the test failed, beside the other screenshots.
        ARTIFACTS.mkdir(parents=True, exist_ok=True)
        page.screenshot(path=str(ARTIFACTS / f"FAILED-{request.node.name}.png"), full_page=True)


@pytest.fixture
def shot() -> Callable[..., Path]:
    """Saves a screenshot of a page as `test-artifacts/e2e/<name>.png`."""

    def take(page: Page, name: str, *, full_page: bool = False) -> Path:
        ARTIFACTS.mkdir(parents=True, exist_ok=True)
        path = ARTIFACTS / f"{name}.png"
        page.screenshot(path=str(path), full_page=full_page)
        return path

    return take
