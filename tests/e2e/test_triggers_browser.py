"""The workflow page's triggers in headless Chromium against a real `accord serve`: add a
schedule and see its next runs, make a webhook, see its secret once, and see the delivery it
received start a run."""

import hashlib
import hmac
import json
import re

import pytest
from playwright.sync_api import Page, expect

pytestmark = pytest.mark.e2e


def test_schedules_and_webhooks_are_managed_from_the_workflow_page(page: Page, shot) -> None:
    agent = page.request.post("/api/v1/agents", data={"name": "Clockwork", "role": "analyst"})
    assert agent.ok, agent.text()
    made = page.request.post(
        "/api/v1/workflows",
        data={
            "name": "Nightly report",
            "description": "",
            "participatingAgents": [agent.json()["id"]],
            "configuration": {"steps": [{"id": "report", "name": "Write the report"}]},
        },
    )
    assert made.ok, made.text()
    workflow_id = made.json()["id"]

    page.goto(f"/workflows/{workflow_id}")
    page.get_by_text("Triggers: schedules, webhooks").click()
    expect(page.get_by_text("No schedules")).to_be_visible()

    page.get_by_label("Cron (5 fields) or interval").fill("0 2 * * 1")
    page.get_by_label("Time zone").fill("Europe/Paris")
    page.get_by_role("button", name="Add schedule").click()
    schedules = page.get_by_role("table", name="Schedules")
    expect(schedules).to_contain_text("cron 0 2 * * 1 (Europe/Paris)")
    expect(schedules).to_contain_text(re.compile(r"\d{1,2}:00"))  # its next runs, in local time

    page.get_by_label("Cron (5 fields) or interval").fill("7s")
    page.get_by_role("button", name="Add schedule").click()
    expect(page.get_by_role("alert")).to_contain_text("does not divide the minute")

    schedules.get_by_role("button", name="Pause").click()
    expect(schedules).to_contain_text("paused")

    page.get_by_label("New webhook name").fill("ci")
    page.get_by_role("button", name="Add webhook").click()
    notice = page.get_by_role("status").filter(has_text="shown once")
    expect(notice).to_be_visible()
    secret = notice.inner_text().split("(shown once): ")[1].split()[0]
    url_path = re.search(r"/api/v1/hooks/[0-9a-f-]+", notice.inner_text()).group(0)
    shot(page, "triggers", full_page=True)

    body = json.dumps({"ref": "main"}).encode()
    signature = "sha256=" + hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()
    delivered = page.request.post(
        url_path,
        data=body,
        headers={"Content-Type": "application/json", "X-Hub-Signature-256": signature},
    )
    assert delivered.status == 202, delivered.text()
    execution_id = delivered.json()["executionId"]

    page.reload()
    page.get_by_text("Triggers: schedules, webhooks").click()
    hooks = page.get_by_role("table", name="Webhooks")
    expect(hooks).to_contain_text(f"run {execution_id[:8]}")
    assert not page.page_errors  # type: ignore[attr-defined]
