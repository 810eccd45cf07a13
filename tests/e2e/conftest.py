"""Browser end-to-end fixtures: a real `accord serve` subprocess and Debian's Chromium.

The server runs on a free port with a temporary ACCORD_DATA_DIR (its own SQLite database),
no provider keys in its environment, and prints the one-time login link we sign in with.
Chromium is `/usr/bin/chromium`, driven by Playwright; nothing downloads a browser.
Screenshots go to `test-artifacts/e2e/`.
"""

import os
import re
import shutil
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from playwright.sync_api import Browser, BrowserContext, Page, sync_playwright

ROOT = Path(__file__).resolve().parents[2]
STATIC_INDEX = ROOT / "src" / "accord" / "server" / "static" / "index.html"
ARTIFACTS = ROOT / "test-artifacts" / "e2e"
CHROMIUM = os.environ.get("ACCORD_CHROMIUM", "/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
LOGIN_LINK = re.compile(r"(http://\S+/login\?token=\S+)")
SCRUBBED_ENV = ("OPENAI_API_KEY", "OPENAI_BASE_URL", "ANTHROPIC_API_KEY", "ACCORD_DATABASE_URL")


@dataclass
class Server:
    base_url: str
    login_link: str
    process: subprocess.Popen[str]
    output: list[str]


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture(scope="module")
def accord_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    if not STATIC_INDEX.is_file():
        pytest.fail("the UI is not built: run ./dev setup (or cd ui && npm ci && npm run build)")
    port = _free_port()
    env = {k: v for k, v in os.environ.items() if k not in SCRUBBED_ENV}
    env["ACCORD_DATA_DIR"] = str(tmp_path_factory.mktemp("accord-data"))
    accord = shutil.which("accord", path=str(Path(sys.executable).parent)) or "accord"
    process = subprocess.Popen(
        [accord, "serve", "--port", str(port)],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    output: list[str] = []
    found = threading.Event()

    def read() -> None:
        assert process.stdout is not None
        for line in process.stdout:
            output.append(line)
            if LOGIN_LINK.search(line):
                found.set()

    threading.Thread(target=read, daemon=True).start()
    base_url = f"http://127.0.0.1:{port}"
    try:
        if not found.wait(60):
            pytest.fail("accord serve printed no login link:\n" + "".join(output))
        link = next(m.group(1) for line in output if (m := LOGIN_LINK.search(line)))
        _wait_until_listening(port, process, output)
        yield Server(base_url, link, process, output)
    finally:
        process.terminate()
        try:
            process.wait(15)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
        ARTIFACTS.mkdir(parents=True, exist_ok=True)
        (ARTIFACTS / "server.log").write_text("".join(output))


def _wait_until_listening(port: int, process: subprocess.Popen[str], output: list[str]) -> None:
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if process.poll() is not None:
            pytest.fail("accord serve exited:\n" + "".join(output))
        with socket.socket() as s:
            if s.connect_ex(("127.0.0.1", port)) == 0:
                return
        time.sleep(0.1)
    pytest.fail("accord serve did not start listening:\n" + "".join(output))


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
