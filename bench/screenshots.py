"""Refreshes docs/screenshots/: every page of the browser UI at 1440x900 and 390x844.

Starts a real `accord serve` (a fresh data directory, the offline model), creates a team, a
small workflow that runs to completion (its deliverable, the step inspector, the timeline), a
64-wide fan-out, a 300-step pipeline, a failed run and its retry, and a run whose agent writes
through the reference filesystem MCP server once a person approves (the approval waiting, the
tool calls in the timeline, the file browser), then visits each page in Debian's Chromium.

    .venv/bin/python bench/screenshots.py            # all pages
    .venv/bin/python bench/screenshots.py --only monitor
"""

import argparse
import re
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

from playwright.sync_api import Page, sync_playwright

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from tests.e2e import workloads as w  # noqa: E402
from tests.e2e.server import CHROMIUM, CHROMIUM_ARGS, running_server  # noqa: E402

OUT = ROOT / "docs" / "screenshots"
FILESYSTEM = ROOT / "tools/mcp-servers/node_modules/@modelcontextprotocol/server-filesystem"
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
    retried = retried_run(api)
    base = f"/workflows/{small['id']}/executions/{run['id']}"
    return {
        "workflows": "/workflows",
        "monitor": base,
        "inspector": f"{base}?step=draft",
        "wide": f"/workflows/{wide['id']}/executions/{wide_run['id']}",
        "long": f"/workflows/{long['id']}",
        "editor": f"/workflows/{long['id']}/edit",
        "retry": f"{retried}?step=collect",
        "new-workflow": "/workflows/new",
        "templates": "/templates",
        "agents": "/agents",
        "providers": "/providers",
        "questions": "/questions",
    }


def retried_run(api: w.Api) -> str:
    """A run whose last step timed out, and its retry once the step was given time: the
    retry's address."""
    agents = w.team(api, latency=0.4, suffix=" (retried)")
    flaky = w.create(
        api,
        w.workflow(
            "Flaky publish",
            agents,
            [
                w.step("collect", "Collect the changes"),
                w.step("publish", "Publish", ["collect"], timeoutMinutes=0.003, maxRetries=0),
            ],
            "pipeline",
        ),
    )
    failed = w.wait_finished(api, w.start(api, flaky["id"])["id"])
    flaky["configuration"]["steps"][1]["timeoutMinutes"] = None
    api.patch(f"/api/v1/workflows/{flaky['id']}", data={"configuration": flaky["configuration"]})
    retry = w.call(api, "POST", f"/executions/{failed['id']}/retry")
    w.wait_finished(api, retry["id"])
    return f"/workflows/{flaky['id']}/executions/{retry['id']}"


def tool_run(api: w.Api) -> tuple[str, str]:
    """A run whose agent may write files through the reference filesystem MCP server, each
    write waiting for a person's approval: its address and its execution ID."""
    provider = w.call(
        api,
        "POST",
        "/providers",
        {"name": "Offline (tools)", "kind": "offline", "defaultModel": "accord-offline"},
    )
    agent = w.call(
        api,
        "POST",
        "/agents",
        {
            "name": "Theo",
            "role": "technical writer",
            "tools": ["files.write_file"],
            "llmProviderId": provider["id"],
        },
    )
    server = {
        "command": "node",
        "args": [str(FILESYSTEM / "dist" / "index.js"), "${WORKSPACE}"],
        "requireApproval": ["write_file"],
    }
    report = {
        "id": "report",
        "name": "Write the release report",
        "instructions": "Write the release report into the workspace folder as a Markdown file.",
    }
    flow = w.create(
        api,
        {
            "name": "Approved writes",
            "description": "The writer's file writes wait for a person's approval.",
            "participatingAgents": [agent["id"]],
            "configuration": {"steps": [report], "mcpServers": {"files": server}},
        },
    )
    run = w.start(api, flow["id"])
    return f"/workflows/{flow['id']}/executions/{run['id']}", run["id"]


def pending_approval(api: w.Api, execution_id: str) -> str:
    """The ID of the execution's first approval once it is waiting."""
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        waiting = w.call(api, "GET", f"/approvals?status=pending&executionId={execution_id}")
        if waiting:
            return str(waiting[0]["id"])
        time.sleep(0.2)
    raise AssertionError("no tool call asked for approval")


def tab(name: str) -> Callable[[Page], None]:
    def show(page: Page) -> None:
        page.get_by_role("tab", name=re.compile(name)).click()
        page.wait_for_timeout(600)

    return show


def open_first_file(page: Page) -> None:
    tab("Files")(page)
    page.get_by_role("table", name="Workspace files").get_by_role("button").first.click()
    page.get_by_test_id("file-preview").wait_for()


def capture(page: Page, name: str, url: str, then: Callable[[Page], None] | None = None) -> None:
    page.goto(url)
    page.wait_for_load_state("networkidle")
    page.locator("h1").first.wait_for()
    page.wait_for_timeout(400)
    if then is not None:
        then(page)
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
            base_url=server.base_url, viewport={"width": 1440, "height": 900}
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
        # Tools at work: the approval waiting (in the run and on the approvals page), then
        # once approved, the tool calls on the timeline and the file browser.
        url, execution_id = tool_run(page.request)
        approval = pending_approval(page.request, execution_id)
        later: list[tuple[str, str, Callable[[Page], None] | None]] = [
            ("approval", f"{url}?step=report", None),
            ("approvals", "/approvals", None),
        ]
        for name, address, then in later:
            if not args.only or name in args.only:
                capture(page, name, address, then)
                print(f"{name}: docs/screenshots/{name}-desktop.png, {name}-mobile.png")
        w.call(page.request, "POST", f"/approvals/{approval}/approve", {})
        w.wait_finished(page.request, execution_id)
        for name, address, then in [
            ("tool-calls", f"{url}?step=report", tab("Timeline")),
            ("files", url, open_first_file),
        ]:
            if not args.only or name in args.only:
                capture(page, name, address, then)
                print(f"{name}: docs/screenshots/{name}-desktop.png, {name}-mobile.png")
        browser.close()


if __name__ == "__main__":
    main()
