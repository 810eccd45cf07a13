"""The browser for real work (issue 14), against a real `accord serve` on the offline model:
a finished run opens on its deliverable, the step inspector, graphs of 300 steps and of a
64-wide fan-out, run inputs, the workflow list's tools, the editor's guards, and axe-core on
every page. One server for the module; workloads are created through the API to keep page
loads few."""

import json
import re
from pathlib import Path

import pytest
from playwright.sync_api import Dialog, Locator, Page, expect

from tests.e2e import workloads as w
from tests.e2e.server import ROOT

pytestmark = pytest.mark.e2e
AXE = ROOT / "ui" / "node_modules" / "axe-core" / "axe.min.js"
HOSTILE = '<img src=x onerror="window.__owned=1">'


@pytest.fixture(scope="module")
def seeded(accord_server, browser, signed_in_state) -> dict:
    """A team, a small reviewed pipeline (not run yet), a 300-step pipeline and a 64-wide
    fan-out that has run."""
    # Its API requests come from the app's own origin, as the app's fetches do.
    context = browser.new_context(
        storage_state=signed_in_state,
        base_url=accord_server.base_url,
        extra_http_headers={"Origin": accord_server.base_url},
    )
    api = context.request
    agents = w.team(api)
    small = w.create(
        api,
        w.workflow(
            "Release notes",
            agents,
            [
                w.step("collect", "Collect the changes", instructions=f"List them. {HOSTILE}"),
                w.step("draft", "Draft the notes", ["collect"], reviewRequired=True),
                w.step("publish", "Publish", ["draft"]),
            ],
            "pipeline",
        ),
    )
    long = w.create(api, w.workflow("Long pipeline", agents, w.pipeline_steps(300), "pipeline"))
    wide = w.create(api, w.workflow("Wide research", agents, w.fan_out_steps(64)))
    wide_run = w.wait_finished(api, w.start(api, wide["id"])["id"], timeout=240)
    context.close()
    return {"small": small, "long": long, "wide": wide, "wide_run": wide_run, "agents": agents}


def axe_problems(page: Page) -> list[dict]:
    """Serious and critical axe-core violations on the page as it is now."""
    page.add_script_tag(path=str(AXE))
    return page.evaluate(
        """() => axe.run(document, {resultTypes: ['violations']}).then(r => r.violations
            .filter(v => v.impact === 'serious' || v.impact === 'critical')
            .map(v => ({id: v.id, impact: v.impact,
                         nodes: v.nodes.slice(0, 3).map(n => n.target.join(' '))})))"""
    )


def test_run_with_inputs_opens_on_its_deliverable_and_inspector(page: Page, seeded) -> None:
    small = seeded["small"]
    page.context.grant_permissions(["clipboard-read", "clipboard-write"])
    page.goto(f"/workflows/{small['id']}")
    expect(page).to_have_title("Release notes · Accord")
    # Before any run the graph already shows the definition.
    expect(page.get_by_test_id("step-node-draft")).to_be_visible()

    page.get_by_role("button", name="Start").first.click()
    dialog = page.get_by_role("dialog", name=re.compile("Start"))
    inputs = dialog.get_by_label("Inputs (JSON, optional)")
    inputs.fill('{"version": 2.4,')
    expect(dialog.get_by_role("alert")).to_contain_text("not valid JSON")
    expect(dialog.get_by_role("button", name="Start the run")).to_be_disabled()
    inputs.fill('["a list"]')
    expect(dialog.get_by_role("alert")).to_contain_text("not a list")
    inputs.fill('{"version": "2.4", "audience": "support"}')
    dialog.get_by_role("button", name="Start the run").click()
    expect(page).to_have_url(re.compile(r"/executions/"))

    # Finished: it opens on the deliverable, rendered from markdown with no raw HTML.
    deliverable = page.get_by_test_id("deliverable")
    expect(deliverable).to_be_visible(timeout=90_000)
    expect(page.get_by_role("tab", name="Deliverable")).to_have_attribute("aria-selected", "true")
    expect(deliverable.locator(".markdown h1, .markdown h2").first).to_be_visible()
    execution_id = page.url.rsplit("/", 1)[-1].split("?")[0]
    execution = page.request.get(f"/api/v1/executions/{execution_id}").json()
    assert execution["executionContext"] == {"version": "2.4", "audience": "support"}
    for fmt in ("md", "json", "zip"):
        link = deliverable.get_by_role("link", name=f"Download .{fmt}")
        expect(link).to_have_attribute(
            "href", f"/api/v1/executions/{execution_id}/report?format={fmt}"
        )
    deliverable.get_by_role("button", name="Copy markdown").click()
    expect(deliverable.get_by_role("status")).to_have_text("Copied to the clipboard.")
    assert "Publish" in page.evaluate("navigator.clipboard.readText()")

    # The inspector: a node opens it with the step's input, prompt context and attempts.
    page.get_by_test_id("step-node-collect").click()
    inspector = page.get_by_test_id("step-inspector")
    expect(inspector.locator("#inspector-title")).to_have_text("Collect the changes")
    expect(inspector).to_contain_text(HOSTILE)  # shown as text, never as an element
    assert page.evaluate("window.__owned") is None
    expect(page.locator("img[src=x]")).to_have_count(0)
    attempt = inspector.get_by_test_id("attempt-1")
    expect(attempt).to_contain_text(re.compile("Ada|Grace|Lin"))
    expect(attempt).to_contain_text(re.compile(r"[\d,]+ in / [\d,]+ out"))
    expect(inspector.get_by_role("heading", name=re.compile("Output"))).to_be_visible()
    # From a step to what fed it, and the address keeps the open step.
    page.get_by_test_id("step-node-draft").click()
    expect(page).to_have_url(re.compile(r"\?step=draft"))
    inspector.get_by_role("button", name="Collect the changes").click()
    expect(inspector.locator("#inspector-title")).to_have_text("Collect the changes")
    # The step list opens the inspector too; Close (or Escape) closes it.
    page.get_by_role("tab", name="Steps").click()
    page.get_by_role("table", name="Steps of this run").get_by_role(
        "button", name="Publish"
    ).click()
    expect(inspector.locator("#inspector-title")).to_have_text("Publish")
    expect(page.get_by_role("table", name="Steps of this run")).to_contain_text("Completed")
    page.get_by_role("tab", name="Timeline").click()
    expect(page.get_by_test_id("gantt-row").first).to_be_visible()
    page.get_by_role("button", name=re.compile("Draft the notes, attempt 1")).click()
    expect(inspector.locator("#inspector-title")).to_have_text("Draft the notes")
    problems = axe_problems(page)
    assert problems == [], problems
    inspector.get_by_role("button", name="Close the step inspector").click()
    expect(inspector).to_have_count(0)

    # Run again starts from the previous inputs.
    page.get_by_role("button", name="Run again").click()
    expect(page.get_by_label("Inputs (JSON, optional)")).to_have_value(
        json.dumps({"version": "2.4", "audience": "support"}, indent=2)
    )
    page.get_by_role("button", name="Cancel").click()
    assert page.page_errors == []  # type: ignore[attr-defined]


def test_a_300_step_graph_stays_legible_and_navigable(page: Page, seeded) -> None:
    page.goto(f"/workflows/{seeded['long']['id']}")
    graph = page.get_by_role("application", name=re.compile("Workflow graph, 300 steps"))
    expect(page.get_by_test_id("step-node-s001")).to_be_visible()
    # Readable zoom (names stay well above 2.6 px) and the pipeline wrapped into bands.
    zoom = page.evaluate(
        "new DOMMatrix(getComputedStyle(document.querySelector('.react-flow__viewport'))"
        ".transform).a"
    )
    assert zoom >= 0.5
    first, seventh = (
        page.get_by_test_id(f"step-node-{i}").bounding_box() for i in ("s001", "s007")
    )
    assert first and seventh and seventh["y"] > first["y"] + first["height"]
    assert abs(seventh["x"] - first["x"]) < 5
    expect(page.get_by_role("img", name="Overview of the graph")).to_be_visible()

    # The graph is one tab stop: nothing inside it takes focus on its own.
    focusable = "a, button:not([tabindex='-1']), [tabindex]:not([tabindex='-1'])"
    assert graph.evaluate(f"g => g.querySelectorAll(`{focusable}`).length") == 0

    # The wheel scrolls the page until the graph has focus.
    page.mouse.move(*centre(graph.bounding_box()))
    before = page.evaluate("window.scrollY")
    page.mouse.wheel(0, 300)
    page.wait_for_function(f"window.scrollY > {before}")
    graph.focus()
    expect(graph).to_have_attribute("aria-activedescendant", re.compile("gnode-"))
    active = lambda: page.locator(f"#{graph.get_attribute('aria-activedescendant')}")  # noqa: E731
    expect(active()).to_have_attribute("data-testid", "step-node-s001")
    page.keyboard.press("ArrowRight")
    page.keyboard.press("ArrowRight")
    expect(active()).to_have_attribute("data-testid", "step-node-s003")
    page.keyboard.press("Enter")
    expect(page.get_by_test_id("step-inspector")).to_contain_text("Stage 003")

    # Find a step by name: it is centred and opened.
    page.get_by_label("Find a step by name").fill("Stage 250")
    page.get_by_role("button", name="Find", exact=True).click()
    expect(page.locator("#inspector-title")).to_have_text("Stage 250")
    node = page.get_by_test_id("step-node-s250")
    expect(node).to_be_in_viewport()
    page.get_by_label("Find a step by name").fill("no such stage")
    page.get_by_role("button", name="Find", exact=True).click()
    expect(page.get_by_text("No step is called “no such stage”.")).to_be_visible()


def test_a_64_wide_layer_folds_with_counts_and_expands(page: Page, seeded) -> None:
    wide, run = seeded["wide"], seeded["wide_run"]
    page.goto(f"/workflows/{wide['id']}/executions/{run['id']}")
    group = page.get_by_test_id("step-group-1")
    expect(group).to_contain_text("64 parallel steps")
    expect(group).to_contain_text("64 completed")
    box = page.locator(".graph").bounding_box()
    for node in ("step-node-plan", "step-node-merge"):
        expect(page.get_by_test_id(node)).to_be_in_viewport()
        inner = page.get_by_test_id(node).bounding_box()
        assert (
            box
            and inner
            and box["x"] <= inner["x"]
            and inner["x"] + inner["width"] <= box["x"] + box["width"]
        )
    group.click()
    expect(page.get_by_test_id("step-node-track-01")).to_be_attached()
    expect(group).to_have_count(0)
    page.get_by_role("button", name="Fold wide layers").click()
    expect(page.get_by_test_id("step-group-1")).to_be_visible()


def centre(box) -> tuple[float, float]:
    return box["x"] + box["width"] / 2, box["y"] + box["height"] / 2


def test_workflow_list_finds_duplicates_exports_imports_and_deletes(
    page: Page, seeded, tmp_path: Path
) -> None:
    page.goto("/workflows")
    table = page.get_by_role("table", name="Workflows")
    page.get_by_label("Search", exact=True).fill("long")
    expect(table.get_by_role("row")).to_have_count(2)
    expect(table).to_contain_text("Long pipeline")
    page.get_by_label("Search", exact=True).fill("")
    page.get_by_label("Status").select_option("completed")
    expect(table).to_contain_text("Wide research")
    expect(table).not_to_contain_text("Long pipeline")
    page.get_by_label("Status").select_option("")
    page.get_by_label("Sort by").select_option("name")
    expect(table.get_by_role("row").nth(1)).to_contain_text("Long pipeline")

    with page.expect_download() as download:
        page.get_by_role("button", name="Export Release notes as YAML").click()
    exported = tmp_path / "release.yaml"
    download.value.save_as(exported)
    text = exported.read_text()
    assert "name: Release notes" in text and "agents:" in text
    broken = tmp_path / "broken.yaml"
    broken.write_text(text.replace("- collect", "- nowhere", 1))
    page.get_by_label("Import a workflow file (YAML)").set_input_files(str(broken))
    alert = page.get_by_role("alert")
    expect(alert).to_contain_text(re.compile(r"Line \d+"))
    expect(alert).to_contain_text("nowhere")
    imported = tmp_path / "imported.yaml"
    imported.write_text(text.replace("name: Release notes", "name: Release notes (imported)", 1))
    page.get_by_label("Import a workflow file (YAML)").set_input_files(str(imported))
    expect(page.get_by_role("heading", name="Release notes (imported)")).to_be_visible()

    page.goto("/workflows")
    page.get_by_role("button", name="Duplicate Release notes (imported)").click()
    expect(page.get_by_role("heading", name="Edit Release notes (imported) (copy)")).to_be_visible()
    page.goto("/workflows")
    page.once("dialog", lambda d: d.accept())
    page.get_by_role("button", name="Delete Release notes (imported) (copy)").click()
    expect(page.get_by_role("status").first).to_contain_text(
        "Deleted “Release notes (imported) (copy)”"
    )
    expect(table).not_to_contain_text("(imported) (copy)")


def test_editor_guards_unsaved_work_and_jumps_to_a_clicked_step(page: Page, seeded) -> None:
    small = seeded["small"]
    page.goto(f"/workflows/{small['id']}/edit")
    name = page.get_by_label("Name").first
    name.fill("Release notes, revised")
    name.press("Enter")  # does not submit
    expect(page.get_by_test_id("unsaved")).to_be_visible()
    expect(page).to_have_url(re.compile("/edit$"))

    # A renamed step ID is carried to the step that depends on it.
    first = page.get_by_role("group", name="Step 1", exact=True)
    first.get_by_label("ID").fill("gather")
    second = page.get_by_role("group", name="Step 2", exact=True)
    expect(second.get_by_label("Collect the changes")).to_be_checked()
    # Every problem at once, at its field, with step names.
    page.get_by_role("group", name="Step 3", exact=True).get_by_label("Name").fill("")
    second.get_by_label("Retries").fill("-1")
    expect(page.locator('[data-field="configuration.steps[2].name"]')).to_contain_text(
        "Step 3 needs a name"
    )
    expect(page.locator('[data-field="configuration.steps[1].maxRetries"]')).to_contain_text(
        "“Draft the notes” cannot be negative"
    )

    # Leaving asks first; staying keeps the edits.
    # One handler for both answers: a `once` handler registered between the two clicks was
    # sometimes not the one that answered the second question, and the page stayed put.
    asked: list[str] = []

    def answer(dialog: Dialog) -> None:
        asked.append(dialog.message)
        if len(asked) == 1:
            dialog.dismiss()
        else:
            dialog.accept()

    page.on("dialog", answer)
    page.get_by_role("navigation", name="Main").get_by_role("link", name="Workflows").click()
    expect(page).to_have_url(re.compile("/edit$"))
    expect(name).to_have_value("Release notes, revised")
    page.get_by_role("navigation", name="Main").get_by_role("link", name="Workflows").click()
    # The context's 20 s, not expect's 5 s: on a busy machine the list takes a while to load.
    expect(page).to_have_url(re.compile("/workflows$"), timeout=20_000)

    # A 300-step workflow opens, and clicking a node in the preview jumps to that step's form.
    page.goto(f"/workflows/{seeded['long']['id']}/edit")
    expect(page.get_by_test_id("step-editor-0")).to_be_visible()
    assert page.locator("fieldset.step-editor").count() < 30  # only the steps in view
    page.get_by_test_id("step-node-s004").click()
    expect(page.get_by_test_id("step-editor-3").get_by_label("Name")).to_be_focused()


PAGES = ["/workflows", "/workflows/new", "/templates", "/agents", "/providers", "/questions"]


def test_every_page_has_a_title_and_no_serious_accessibility_violation(page: Page, seeded) -> None:
    titles = set()
    for path in [
        *PAGES,
        f"/workflows/{seeded['wide']['id']}",
        f"/workflows/{seeded['long']['id']}/edit",
    ]:
        page.goto(path)
        page.locator("h1").first.wait_for()
        page.wait_for_load_state("networkidle")
        assert axe_problems(page) == [], path
        titles.add(page.title())
    assert len(titles) == len(PAGES) + 2
    assert all(t.endswith("· Accord") for t in titles)


def test_a_phone_can_watch_a_run_and_open_a_step(page: Page, seeded) -> None:
    page.set_viewport_size({"width": 390, "height": 844})
    wide, run = seeded["wide"], seeded["wide_run"]
    page.goto(f"/workflows/{wide['id']}/executions/{run['id']}")
    expect(page.get_by_test_id("deliverable")).to_be_visible()
    assert page.evaluate("document.documentElement.scrollWidth - window.innerWidth") <= 0
    page.get_by_role("tab", name="Steps").click()
    page.get_by_role("button", name="Merge the findings").click()
    inspector = page.get_by_test_id("step-inspector")
    expect(inspector).to_be_in_viewport()
    problems = axe_problems(page)
    assert problems == [], problems
    inspector.get_by_role("button", name="Close the step inspector").click()
    page.get_by_role("button", name="Run again").click()
    expect(page.get_by_label("Inputs (JSON, optional)")).to_be_in_viewport()


def test_a_failed_run_is_retried_from_its_failed_step(page: Page) -> None:
    """The step that timed out is given time, and Retry runs it (and what follows) in a new
    run that keeps the first step's result instead of running it again."""
    api = page.request
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
    assert failed["status"] == "failed"
    fixed = flaky["configuration"]
    fixed["steps"][1]["timeoutMinutes"] = None
    assert api.patch(f"/api/v1/workflows/{flaky['id']}", data={"configuration": fixed}).ok

    page.goto(f"/workflows/{flaky['id']}/executions/{failed['id']}")
    expect(page.get_by_role("alert")).to_contain_text("Publish")
    page.get_by_role("button", name="Retry from failed step").click()
    expect(page).not_to_have_url(re.compile(failed["id"]))
    banner = page.get_by_test_id("retry-banner")
    expect(banner).to_contain_text(
        "This run retries run #1, keeping the results of 1 completed step"
    )
    expect(page.get_by_test_id("deliverable")).to_be_visible(timeout=60_000)

    page.get_by_test_id("step-node-collect").click()
    kept = page.get_by_test_id("step-inspector").get_by_test_id("kept-result")
    expect(kept).to_contain_text("Result kept from an earlier run")
    kept.get_by_role("link", name="an earlier run").click()
    expect(page).to_have_url(re.compile(failed["id"]))
    expect(page.get_by_role("button", name="Retry from failed step")).to_be_visible()
    assert page.page_errors == []  # type: ignore[attr-defined]


def settled_box(locator: Locator) -> dict | None:
    """Where `locator` is once the graph has stopped moving: a new dependency lays the graph
    out again, and a drag aimed at where a handle was just before misses it."""
    box = locator.bounding_box()
    for _ in range(50):
        locator.page.wait_for_timeout(100)
        again = locator.bounding_box()
        if again == box:
            break
        box = again
    return box


def test_steps_are_connected_by_dragging_in_the_editors_graph(page: Page) -> None:
    """A drag from one step's handle to another makes the second depend on the first; a drag
    that would make a loop is refused with the steps named, and nothing changes."""
    api = page.request
    agents = w.team(api, suffix=" (connected)")
    steps = [w.step("plan", "Plan"), w.step("build", "Build"), w.step("ship", "Ship", ["build"])]
    flow = w.create(api, w.workflow("Connected by hand", agents, steps))
    page.goto(f"/workflows/{flow['id']}/edit")

    def drag(source: str, target: str) -> None:
        start = (
            page.get_by_test_id(f"step-node-{source}")
            .locator("xpath=..")
            .locator(".react-flow__handle.source")
        )
        end = (
            page.get_by_test_id(f"step-node-{target}")
            .locator("xpath=..")
            .locator(".react-flow__handle.target")
        )
        page.mouse.move(*centre(settled_box(start)))
        page.mouse.down()
        x, y = centre(settled_box(end))
        page.mouse.move(x, y, steps=8)
        page.mouse.up()

    status = page.get_by_test_id("connect-status")
    drag("plan", "build")
    expect(status).to_have_text("“Build” now depends on “Plan”.")
    build = page.get_by_test_id("step-editor-1")
    expect(build.get_by_role("checkbox", name="Plan")).to_be_checked()

    drag("ship", "plan")
    expect(status).to_contain_text("“Ship” already waits for “Plan” (through “Build”)")
    expect(
        page.get_by_test_id("step-editor-0").get_by_role("checkbox", name="Ship")
    ).not_to_be_checked()

    page.get_by_role("button", name="Save changes").click()
    expect(page).to_have_url(re.compile(rf"/workflows/{flow['id']}$"))
    saved = api.get(f"/api/v1/workflows/{flow['id']}").json()
    assert [s["dependsOn"] for s in saved["configuration"]["steps"]] == [[], ["plan"], ["build"]]
    assert page.page_errors == []  # type: ignore[attr-defined]
