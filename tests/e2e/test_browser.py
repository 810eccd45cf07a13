"""The browser UI against a real `accord serve` on the offline model, in headless Chromium:
set up a team, build a workflow (with the server's validation at the right field), run it
and watch it live, then read its interactions, knowledge and metrics.

The tests share one server and tell one story in order: the first sets up the team and the
workflow the later ones run and read."""

import re

import pytest
from playwright.sync_api import Page, expect

from tests.e2e import workloads as w

pytestmark = pytest.mark.e2e


def create_provider_and_agents(page: Page) -> None:
    page.goto("/providers")
    expect(page.get_by_text("No providers yet")).to_be_visible()
    page.get_by_role("button", name="Add a provider").click()
    page.get_by_label("Name").fill("Offline, slowed down")
    page.get_by_label("Kind").select_option("offline")
    page.get_by_label("Simulated latency (seconds)").fill("0.2")
    page.get_by_label("Seed").fill("7")
    page.get_by_role("button", name="Create provider").click()
    row = page.get_by_role("row", name=re.compile("Offline, slowed down"))
    expect(row).to_contain_text("accord-offline")

    # An API key is write-only: the page says one is saved, and nothing ever shows it.
    page.get_by_role("button", name="New provider").click()
    page.get_by_label("Name").fill("OpenAI (unused)")
    page.get_by_label("Kind").select_option("openai")
    page.get_by_label("API key").fill("sk-e2e-never-shown")
    page.get_by_role("button", name="Create provider").click()
    openai_row = page.get_by_role("row", name=re.compile("OpenAI \\(unused\\)"))
    expect(openai_row).to_contain_text("Saved")
    assert "sk-e2e-never-shown" not in page.request.get("/api/v1/providers").text()
    openai_row.get_by_role("button", name="Edit").click()
    expect(page.get_by_label("API key")).to_have_value("")
    expect(page.get_by_label("API key")).to_have_attribute("placeholder", re.compile("Saved"))
    page.get_by_role("button", name="Cancel").click()
    page.once("dialog", lambda dialog: dialog.accept())
    openai_row.get_by_role("button", name="Delete").click()
    expect(openai_row).to_have_count(0)

    page.goto("/agents")
    expect(page.get_by_text("No agents yet")).to_be_visible()
    for name, role, skills in (
        ("Ada", "developer", "python, api design"),
        ("Grace", "reviewer", "code review, testing"),
    ):
        page.get_by_role("button", name=re.compile("New agent|Create an agent")).first.click()
        page.get_by_label("Name").fill(name)
        page.get_by_label("Role").fill(role)
        page.get_by_label("Skills (comma-separated)").fill(skills)
        page.get_by_label("Provider").select_option(label="Offline, slowed down · offline")
        page.get_by_role("button", name="Create agent").click()
        expect(page.get_by_role("heading", name=name)).to_be_visible()


def start_run(page: Page, button: str) -> None:
    """Start (or Run again) opens the inputs dialog; run without inputs."""
    page.get_by_role("button", name=button).first.click()
    page.get_by_role("dialog").get_by_role("button", name="Start the run").click()


def add_step(page: Page, index: int, name: str) -> None:
    page.get_by_role("button", name="Add step").click()
    step = page.get_by_role("group", name=f"Step {index}", exact=True)
    step.get_by_label("Name").fill(name)


def test_team_setup_and_builder_validation(page: Page, shot) -> None:
    page.goto("/")
    expect(page.get_by_role("heading", name="Workflows")).to_be_visible()
    expect(page.get_by_role("link", name="Create an agent")).to_be_visible()
    shot(page, "01-first-visit")

    create_provider_and_agents(page)
    shot(page, "02-agents")

    page.goto("/workflows/new")
    page.get_by_label("Name").first.fill("Feature delivery")
    page.get_by_label("Description").fill("Plan, build and document a small feature.")
    page.get_by_label("Ada").check()
    page.get_by_label("Grace").check()
    page.get_by_label("Coordinator").select_option(label="Ada · developer")
    add_step(page, 1, "Plan the feature")
    # A quoted requirement gives the offline team something to remember, whoever does the step.
    page.get_by_role("group", name="Step 1", exact=True).get_by_label("Instructions").fill(
        'The customer wrote: "Exports must finish within 30 seconds for 10,000 rows."'
    )
    add_step(page, 2, "Build it")
    add_step(page, 3, "Document it")
    build = page.get_by_role("group", name="Step 2", exact=True)
    build.get_by_label("Another agent reviews this step").check()
    build.get_by_label("Reviewer role").fill("designer")
    build.get_by_label("Retries").fill("5")

    # The server's compiler rejects the reviewer role, and the message sits at that field.
    reviewer_field = page.locator('[data-field="configuration.steps[1].reviewerRole"]')
    expect(reviewer_field).to_contain_text("no participant has it")
    expect(build.get_by_label("Reviewer role")).to_have_attribute("aria-invalid", "true")
    expect(page.get_by_role("group", name="Step 1", exact=True)).not_to_contain_text(
        "no participant has it"
    )
    expect(page.get_by_test_id("step-node-step-3")).to_be_visible()
    shot(page, "03-builder-validation", full_page=True)

    build.get_by_label("Reviewer role").fill("reviewer")
    expect(page.get_by_text("No problems found.")).to_be_visible()
    page.get_by_role("button", name="Create workflow").click()
    expect(page.get_by_role("heading", name="Feature delivery")).to_be_visible()
    expect(page.get_by_text("This workflow has not run yet")).to_be_visible()
    assert page.page_errors == []  # type: ignore[attr-defined]


def test_run_is_watched_live_with_every_tab(page: Page, shot) -> None:
    page.goto("/workflows")
    page.get_by_role("link", name="Feature delivery").click()
    expect(page.get_by_text("This workflow has not run yet")).to_be_visible()
    # Marks this document: if anything reloaded the page, the mark would be gone.
    page.evaluate("window.__sameDocument = true")

    start_run(page, "Start")
    expect(page).to_have_url(re.compile(r"/executions/"))
    expect(page.get_by_role("heading", name=re.compile("Execution #1"))).to_be_visible()

    # The graph follows the run: some step is seen running, then every step completes.
    expect(page.locator('[data-status="running"]').first).to_be_visible(timeout=30_000)
    shot(page, "04-monitor-running")
    for step_id in ("step-1", "step-2", "step-3"):
        expect(page.get_by_test_id(f"step-node-{step_id}")).to_have_attribute(
            "data-status", "completed", timeout=90_000
        )
    expect(page.get_by_test_id("progress-text")).to_contain_text("3/3 completed")
    expect(page.get_by_role("heading", name=re.compile("Execution #1"))).to_contain_text(
        "completed"
    )
    assert page.evaluate("window.__sameDocument") is True

    # Finished, it shows its deliverable rendered from markdown; the step list names the agents.
    expect(
        page.get_by_test_id("deliverable").locator(".markdown h1, .markdown h2").first
    ).to_be_visible()
    page.get_by_role("tab", name="Steps").click()
    for step_id in ("step-1", "step-2", "step-3"):
        expect(page.get_by_test_id(f"result-{step_id}")).to_contain_text(re.compile("Ada|Grace"))
    shot(page, "05-monitor-completed", full_page=True)

    page.get_by_role("tab", name=re.compile("Interactions")).click()
    rows = page.get_by_test_id("interaction")
    expect(rows.first).to_be_visible()
    total = rows.count()
    page.get_by_label("Filter by type").select_option("task_delegation")
    expect(rows.first).to_contain_text("Delegation")
    assert rows.count() <= total
    for i in range(rows.count()):
        expect(rows.nth(i).locator(".badge").first).to_have_text("Delegation")
    page.get_by_label("Filter by type").select_option("")
    shot(page, "06-interactions", full_page=True)

    page.get_by_role("tab", name=re.compile("Knowledge")).click()
    entries = page.get_by_test_id("knowledge")
    expect(entries.first).to_be_visible()
    title = entries.first.locator(".knowledge-head .strong").inner_text()
    shot(page, "07-knowledge", full_page=True)
    page.get_by_label("Search knowledge").fill(title.split()[0])
    page.get_by_role("button", name="Search", exact=True).click()
    expect(entries.first).to_be_visible()
    expect(page.get_by_test_id("knowledge").filter(has_text=title).first).to_be_visible()

    page.get_by_role("tab", name="Metrics").click()
    per_agent = page.get_by_role("table", name="Usage per agent")
    expect(per_agent).to_contain_text(re.compile("Ada|Grace"))
    shot(page, "08-metrics", full_page=True)

    page.get_by_role("tab", name="History").click()
    expect(page.get_by_role("table", name="Execution history")).to_contain_text("#1")

    start_run(page, "Run again")
    expect(page.get_by_role("heading", name=re.compile("Execution #2"))).to_be_visible()
    for step_id in ("step-1", "step-2", "step-3"):
        expect(page.get_by_test_id(f"step-node-{step_id}")).to_have_attribute(
            "data-status", "completed", timeout=90_000
        )
    assert page.page_errors == []  # type: ignore[attr-defined]


def test_pause_resume_and_cancel(page: Page) -> None:
    page.goto("/workflows")
    page.get_by_role("link", name="Feature delivery").click()
    start_run(page, "Run again")
    heading = page.get_by_role("heading", name=re.compile(r"Execution #\d+"))
    expect(heading).to_contain_text("running")

    page.get_by_role("button", name="Pause").click()
    expect(heading).to_contain_text("paused")
    expect(page.get_by_role("button", name="Resume")).to_be_visible()
    page.get_by_role("button", name="Resume").click()
    expect(heading).to_contain_text("running")
    expect(heading).to_contain_text("completed", timeout=90_000)

    start_run(page, "Run again")
    expect(heading).to_contain_text("running")
    page.get_by_role("button", name="Cancel").click()
    expect(heading).to_contain_text("cancelled")
    expect(page.get_by_role("button", name="Run again")).to_be_visible()
    page.get_by_role("tab", name="History").click()
    history = page.get_by_role("table", name="Execution history")
    expect(history).to_contain_text("cancelled")
    expect(history).to_contain_text("completed")


def test_workflow_list_shows_status_progress_and_last_run(page: Page, shot) -> None:
    page.goto("/workflows")
    row = page.get_by_role("row", name=re.compile("Feature delivery"))
    expect(row).not_to_contain_text("never")
    expect(row).to_contain_text(re.compile(r"\d+/3 steps"))
    expect(row.locator(".badge")).not_to_have_text("draft")
    shot(page, "12-workflow-list")


def test_narrow_window_keeps_the_monitor_readable(page: Page, shot) -> None:
    page.set_viewport_size({"width": 390, "height": 800})
    page.goto("/workflows")
    page.get_by_role("link", name="Feature delivery").click()
    expect(page.get_by_test_id("step-node-step-1")).to_be_visible()
    # The navigation folds into a menu button, and the page does not scroll sideways.
    expect(page.get_by_role("navigation", name="Main")).to_be_hidden()
    page.get_by_role("button", name="Menu").click()
    expect(page.get_by_role("navigation", name="Main")).to_be_visible()
    page.get_by_role("button", name="Menu").click()
    overflow = page.evaluate("document.documentElement.scrollWidth - window.innerWidth")
    assert overflow <= 0
    shot(page, "09-narrow", full_page=True)


def test_template_gallery_maps_roles_to_agents(page: Page, shot) -> None:
    page.goto("/templates")
    templates = page.get_by_test_id("template")
    expect(templates.first).to_be_visible()
    page.get_by_role("tab", name="Review").click()
    expect(templates.filter(has_text="Code review")).to_be_visible()
    expect(templates.locator(".badge").filter(has_not_text="review")).to_have_count(0)

    templates.filter(has_text="Code review").get_by_role("button", name="Use template").click()
    # The template's roles are matched to the agents with those roles.
    expect(page.get_by_label("Agent for “developer”")).to_have_value(agent_id(page, "Ada"))
    expect(page.get_by_label("Agent for “reviewer”")).to_have_value(agent_id(page, "Grace"))
    shot(page, "10-template-gallery", full_page=True)
    page.get_by_label("Workflow name").fill("Review the login change")
    page.get_by_role("button", name="Create workflow").click()
    expect(page.get_by_role("heading", name="Review the login change")).to_be_visible()
    expect(page.get_by_text("2 agents")).to_be_visible()

    # Its decision step is taken by majority: the agents' votes show in the timeline.
    start_run(page, "Start")
    expect(page.get_by_test_id("step-node-merge")).to_have_attribute(
        "data-status", "completed", timeout=90_000
    )
    page.get_by_role("tab", name=re.compile("Interactions")).click()
    page.get_by_label("Filter by type").select_option("coordination")
    votes = page.get_by_test_id("interaction").filter(has_text="Vote:")
    expect(votes.first).to_be_visible()
    assert votes.count() >= 2
    expect(page.get_by_test_id("interaction").filter(has_text="Outcome:").first).to_be_visible()
    shot(page, "11-votes", full_page=True)


def agent_id(page: Page, name: str) -> str:
    agents = page.request.get("/api/v1/agents").json()
    return next(a["id"] for a in agents if a["name"] == name)


def test_the_text_an_agent_is_writing_shows_live_in_the_strip_and_the_inspector(
    page: Page, shot
) -> None:
    """A slow offline model writes its answer over seconds: the running step's text appears
    in the "now writing" strip and grows in the step's inspector, then gives way to the
    recorded output."""
    provider = w.call(
        page.request,
        "POST",
        "/providers",
        {
            "name": "Offline, writing slowly",
            "kind": "offline",
            "defaultModel": "accord-offline",
            "settings": {"latencySeconds": 2.5, "questionRate": 0, "feedbackRate": 0},
        },
    )
    scribe = w.call(
        page.request,
        "POST",
        "/agents",
        {"name": "Scribe", "role": "writer", "llmProviderId": provider["id"]},
    )
    flow = w.call(
        page.request,
        "POST",
        "/workflows",
        {
            "name": "Release notes, live",
            "description": "",
            "participatingAgents": [scribe["id"]],
            "configuration": {
                "steps": [
                    {
                        "id": "notes",
                        "name": "Write the notes",
                        "instructions": "List what changed in version 2.4 for support.",
                    }
                ]
            },
        },
    )
    page.goto(f"/workflows/{flow['id']}")
    start_run(page, "Start")
    expect(page).to_have_url(re.compile(r"/executions/"))

    strip = page.get_by_test_id("now-writing")
    expect(strip).to_be_visible(timeout=30_000)
    expect(strip.get_by_test_id("now-writing-notes")).to_contain_text("Scribe · Write the notes")
    page.get_by_test_id("step-node-notes").click()
    writing = page.get_by_test_id("inspector-writing")
    expect(writing).to_be_visible()
    expect(writing).to_contain_text("Writing now · Scribe, attempt 1")
    # The model's answer, growing: its summary begins with what the offline model says it is.
    text = writing.locator("pre.writing")
    expect(text).to_contain_text("[offline model]", timeout=20_000)
    before = len(text.inner_text())
    shot(page, "09-now-writing")
    page.wait_for_function(
        "([el, n]) => el.textContent.length > n", arg=[text.element_handle(), before]
    )

    # Done: the strip and the live text give way to the recorded output.
    expect(page.get_by_test_id("step-node-notes")).to_have_attribute(
        "data-status", "completed", timeout=60_000
    )
    expect(strip).to_have_count(0)
    expect(writing).to_have_count(0)
    expect(page.get_by_role("heading", name=re.compile("Output"))).to_be_visible()
    assert page.page_errors == []  # type: ignore[attr-defined]
