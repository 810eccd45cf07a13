"""Refreshes docs/screenshots/: every page of the browser UI at 1440x900 and 390x844.

Starts a real `accord serve` (a fresh data directory, the offline model), creates a team, a
small workflow that runs to completion (its deliverable, the step inspector, the timeline), a
64-wide fan-out, a 300-step pipeline and a nested team, then visits each page in Debian's
Chromium.

    .venv/bin/python bench/screenshots.py            # all pages
    .venv/bin/python bench/screenshots.py --only monitor
"""

import argparse
import sys
import tempfile
from pathlib import Path

from playwright.sync_api import Page, sync_playwright

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from tests.e2e import workloads as w  # noqa: E402
from tests.e2e.server import CHROMIUM, CHROMIUM_ARGS, running_server  # noqa: E402

OUT = ROOT / "docs" / "screenshots"
SIZES = {"desktop": (1440, 900), "mobile": (390, 844)}


def seed(api: w.Api) -> dict[str, str]:
    """Creates the workloads; returns the addresses of the pages worth showing."""
    agents = w.team(api)
    small = w.create(
        api,
        w.workflow(
            "Release notes",
            agents,
            [
                w.step("collect", "Collect the changes"),
                w.step("draft", "Draft the notes", ["collect"], reviewRequired=True),
                w.step("publish", "Publish", ["draft"]),
            ],
            "pipeline",
            description="Collect, draft (reviewed) and publish the release notes.",
        ),
    )
    run = w.start(api, small["id"], {"version": "2.4"})
    w.wait_finished(api, run["id"])
    wide = w.create(api, w.workflow("Wide research (64 tracks)", agents, w.fan_out_steps(64)))
    wide_run = w.start(api, wide["id"])
    w.wait_finished(api, wide_run["id"], timeout=300)
    long = w.create(
        api, w.workflow("Long pipeline (300 stages)", agents, w.pipeline_steps(300), "pipeline")
    )
    base = f"/workflows/{small['id']}/executions/{run['id']}"
    return {
        "workflows": "/workflows",
        "monitor": base,
        "inspector": f"{base}?step=draft",
        "wide": f"/workflows/{wide['id']}/executions/{wide_run['id']}",
        "long": f"/workflows/{long['id']}",
        "editor": f"/workflows/{long['id']}/edit",
        "new-workflow": "/workflows/new",
        "templates": "/templates",
        "agents": "/agents",
        "providers": "/providers",
        "questions": "/questions",
    }


def capture(page: Page, name: str, url: str) -> None:
    page.goto(url)
    page.wait_for_load_state("networkidle")
    page.locator("h1").first.wait_for()
    page.wait_for_timeout(400)
    for size, (width, height) in SIZES.items():
        page.set_viewport_size({"width": width, "height": height})
        page.wait_for_timeout(300)
        page.screenshot(path=str(OUT / f"{name}-{size}.png"))
    page.set_viewport_size({"width": 1440, "height": 900})


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--only", action="append", help="page name(s) to capture")
    args = parser.parse_args()
    OUT.mkdir(parents=True, exist_ok=True)
    with (
        tempfile.TemporaryDirectory() as data,
        running_server(Path(data)) as server,
        sync_playwright() as playwright,
    ):
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        context = browser.new_context(
            base_url=server.base_url,
            viewport={"width": 1440, "height": 900},
            # `page.request` seeds data with the session cookie: from the app's own origin.
            extra_http_headers={"Origin": server.base_url},
        )
        page = context.new_page()
        page.goto(server.login_link)
        page.get_by_role("navigation", name="Main").wait_for()
        pages = seed(page.request)
        for name, url in pages.items():
            if args.only and name not in args.only:
                continue
            capture(page, name, url)
            print(f"{name}: docs/screenshots/{name}-desktop.png, {name}-mobile.png")
        browser.close()


if __name__ == "__main__":
    main()
