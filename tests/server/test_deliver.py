"""Deliverables and reports over HTTP, and the spec's loose ends: a cancel's effect on the
workflow, steps that never ran, estimated durations, projects."""

import io
import json
import zipfile

import pytest

from accord.tools.workspace_folder import locate_workspace
from server.conftest import ApiUser, LiveServer, make_user
from server.test_executions import TERMINAL, team_workflow, wait_for
from server.test_resources import agent, workflow_body


@pytest.fixture
def user(engine_server: LiveServer) -> ApiUser:
    return make_user(engine_server)


def test_a_finished_execution_hands_over_its_deliverable_and_its_report(
    engine_server: LiveServer, user: ApiUser
) -> None:
    wf = team_workflow(user, "plan", "build")
    assert wf["estimatedDuration"] == 2 * 60  # no run yet: an allowance per step
    started = user.api.post(f"/workflows/{wf['id']}/executions").json()
    assert started["deliverable"] is None and started["estimatedDuration"] == 120
    done = wait_for(user, started["id"], TERMINAL)
    assert done["status"] == "completed"
    build = next(r for r in done["stepRuns"] if r["stepId"] == "build")
    assert done["deliverable"] == {
        "markdown": build["output"]["output"].strip() + "\n",
        "stepIds": ["build"],
    }
    listed = user.api.get(f"/workflows/{wf['id']}/executions").json()
    assert listed[0]["deliverable"] == done["deliverable"]  # stored, not recomputed

    # A file the team left in its workspace goes with the report.
    with engine_server.db.session() as session:
        folder = locate_workspace(session, done["id"]).ensure().root
    (folder / "notes").mkdir()
    (folder / "notes" / "plan.md").write_text("# The plan\n")

    report = user.api.get(f"/executions/{done['id']}/report").json()
    assert [(f["path"], f["size"]) for f in report["files"]] == [("notes/plan.md", 11)]
    assert report["deliverable"] == done["deliverable"]
    assert [(s["stepId"], s["status"], s["attempts"]) for s in report["steps"]] == [
        ("plan", "completed", 1),
        ("build", "completed", 1),
    ]
    assert report["steps"][1]["output"] == build["output"]["output"]
    assert set(report) >= {"interactions", "knowledge", "metrics", "usage", "childExecutions"}

    md = user.api.get(f"/executions/{done['id']}/report", params={"format": "md"})
    assert md.status_code == 200 and md.headers["content-type"].startswith("text/markdown")
    assert "attachment" in md.headers["content-disposition"]
    text = md.text
    assert text.startswith("# Pipeline: execution #1")
    assert text.index("## Deliverable") < text.index("## Steps") < text.index("## Metrics")

    packed = user.api.get(f"/executions/{done['id']}/report", params={"format": "zip"})
    assert packed.headers["content-type"] == "application/zip"
    archive = zipfile.ZipFile(io.BytesIO(packed.content))
    assert sorted(archive.namelist()) == ["files/notes/plan.md", "report.json", "report.md"]
    assert archive.read("files/notes/plan.md") == b"# The plan\n"
    assert "- `notes/plan.md` (11 bytes)" in text
    assert json.loads(archive.read("report.json"))["executionId"] == done["id"]
    assert archive.read("report.md").decode() == text

    bad = user.api.get(f"/executions/{done['id']}/report", params={"format": "pdf"})
    assert bad.status_code == 422
    other = make_user(engine_server, "Other")
    assert other.api.get(f"/executions/{done['id']}/report").status_code == 404

    # The next run is estimated from this one.
    again = user.api.post(f"/workflows/{wf['id']}/executions").json()
    assert again["estimatedDuration"] == max(1, done["actualDuration"])
    wait_for(user, again["id"], TERMINAL)


def test_a_cancel_closes_every_step_and_gives_the_workflow_back(user: ApiUser) -> None:
    wf = team_workflow(user, "slow", "after", "last")
    execution = user.api.post(f"/workflows/{wf['id']}/executions").json()
    cancelled = user.api.post(f"/executions/{execution['id']}/cancel")
    assert cancelled.status_code == 200 and cancelled.json()["status"] == "cancelled"
    shown = user.api.get(f"/executions/{execution['id']}").json()
    assert shown["deliverable"] is None
    assert [(r["stepId"], r["status"], r["error"]) for r in shown["stepRuns"]] == [
        ("slow", "cancelled", "cancelled by the user"),
        ("after", "cancelled", "not run: cancelled by the user"),
        ("last", "cancelled", "not run: cancelled by the user"),
    ]
    # Never completed nor failed before: a draft again, not "failed".
    assert user.api.get(f"/workflows/{wf['id']}").json()["status"] == "draft"
    report = user.api.get(f"/executions/{execution['id']}/report", params={"format": "md"})
    assert "_No deliverable: the execution did not complete._" in report.text


def test_projects_group_workflows_per_user(any_live_server: LiveServer) -> None:
    alice, bob = make_user(any_live_server, "Alice"), make_user(any_live_server, "Bob")
    created = alice.api.post("/projects", json={"name": "  Billing  ", "description": "Q3"})
    assert created.status_code == 201, created.text
    project = created.json()
    assert project["name"] == "Billing"
    assert [p["id"] for p in alice.api.get("/projects").json()] == [project["id"]]
    blank = alice.api.post("/projects", json={"name": ""})
    assert blank.status_code == 422
    assert blank.json()["error"]["details"]["problems"][0]["field"] == "name"

    ada = agent(alice)
    inside = alice.api.post("/workflows", json=workflow_body(ada["id"], projectId=project["id"]))
    assert inside.status_code == 201 and inside.json()["projectId"] == project["id"]
    outside = alice.api.post("/workflows", json=workflow_body(ada["id"])).json()
    listed = alice.api.get(f"/projects/{project['id']}/workflows").json()
    assert [w["id"] for w in listed] == [inside.json()["id"]]
    query = alice.api.get("/workflows", params={"projectId": project["id"]}).json()
    assert [w["id"] for w in query] == [inside.json()["id"]]

    # Deleting a project that holds workflows is refused, saying how to proceed.
    refused = alice.api.delete(f"/projects/{project['id']}")
    assert refused.status_code == 409
    assert "1 workflow(s): 'Ship it'" in refused.json()["error"]["message"]
    moved = alice.api.patch(f"/workflows/{outside['id']}", json={"projectId": project["id"]})
    assert moved.json()["projectId"] == project["id"]
    for w in (inside.json(), outside):
        out = alice.api.patch(f"/workflows/{w['id']}", json={"projectId": None})
        assert out.status_code == 200 and out.json()["projectId"] is None

    renamed = alice.api.patch(f"/projects/{project['id']}", json={"description": "Q4"})
    assert renamed.json()["name"] == "Billing" and renamed.json()["description"] == "Q4"

    # Bob sees nothing of Alice's project and cannot file a workflow under it.
    assert bob.api.get(f"/projects/{project['id']}").status_code == 404
    assert bob.api.get(f"/projects/{project['id']}/workflows").status_code == 404
    assert bob.api.delete(f"/projects/{project['id']}").status_code == 404
    assert bob.api.get("/projects").json() == []
    bobs = bob.api.post("/workflows", json=workflow_body(agent(bob)["id"], projectId=project["id"]))
    assert bobs.status_code == 422
    assert bobs.json()["error"]["details"]["problems"][0]["field"] == "projectId"

    assert alice.api.delete(f"/projects/{project['id']}").status_code == 204
    assert alice.api.get(f"/projects/{project['id']}").status_code == 404
