"""Issue 17 item 2: text fields have documented maximum lengths; past one, the 422 names the
field and its limit (docs/contracts.md lists them)."""

from server.conftest import ApiUser


def problems(answer) -> list[dict]:
    assert answer.status_code == 422, answer.text
    return answer.json()["error"]["details"]["problems"]


def test_a_text_over_its_limit_is_refused_naming_the_field_and_the_limit(alice: ApiUser):
    agent = alice.api.post("/agents", json={"name": "Ada", "role": "writer", "skills": ["x" * 201]})
    (problem,) = problems(agent)
    assert problem["field"] == "skills[0]"
    assert "at most 200 characters" in problem["message"]

    step = {"id": "s1", "name": "Step", "instructions": "y" * 50_001}
    workflow = alice.api.post(
        "/workflows",
        json={
            "name": "Long",
            "description": "",
            "workflowType": "pipeline",
            "configuration": {"steps": [step]},
            "participatingAgents": [],
        },
    )
    (problem,) = problems(workflow)
    assert problem["field"] == "configuration.steps[0].instructions"
    assert "at most 50000 characters" in problem["message"]
