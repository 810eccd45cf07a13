"""A workflow exported as a workflow file and imported back (on the same or another account)."""

import yaml

from accord.domain.workflow_file import parse_workflow_file
from server.conftest import ApiUser
from server.test_resources import agent, workflow_body


def test_a_workflow_exports_as_a_file_and_imports_back_for_another_user(
    alice: ApiUser, bob: ApiUser
) -> None:
    ada = agent(alice, "Ada", skills=["python"], tools=["files"])
    grace = agent(alice, "Grace", role="reviewer")
    body = workflow_body(ada["id"], grace["id"], coordinatorAgentId=ada["id"])
    body["configuration"]["mcpServers"] = {"files": {"command": "mcp-files", "args": ["/data"]}}
    body["configuration"]["steps"][1].update(
        preferredAgentId=grace["id"], reviewRequired=True, reviewerRole="reviewer"
    )
    created = alice.api.post("/workflows", json=body).json()

    exported = alice.api.get(f"/workflows/{created['id']}/export")
    assert exported.status_code == 200, exported.text
    assert exported.headers["content-type"].startswith("application/yaml")
    assert 'filename="Ship-it.yaml"' in exported.headers["content-disposition"]
    text = exported.text
    assert ada["id"] not in text and grace["id"] not in text  # names, never IDs
    data = yaml.safe_load(text)
    assert data["coordinator"] == "Ada"
    assert data["steps"][1]["agent"] == "Grace"
    assert parse_workflow_file(text).steps[1].review_required is True
    assert data["mcpServers"]["files"]["command"] == "mcp-files"
    assert next(a for a in data["agents"] if a["name"] == "Ada")["tools"] == ["files"]

    imported = bob.api.post("/workflows/import", json={"yaml": text})
    assert imported.status_code == 201, imported.text
    copy = imported.json()
    assert copy["name"] == "Ship it"
    bobs_agents = {a["name"]: a["id"] for a in bob.api.get("/agents").json()}
    assert set(bobs_agents) == {"Ada", "Grace"}
    assert copy["coordinatorAgentId"] == bobs_agents["Ada"]
    assert copy["configuration"]["steps"][1]["preferredAgentId"] == bobs_agents["Grace"]
    assert copy["configuration"]["mcpServers"]["files"]["args"] == ["/data"]
    assert next(a for a in bob.api.get("/agents").json() if a["name"] == "Ada")["tools"] == [
        "files"
    ]

    # Importing again reuses the agents of those names instead of failing on the name.
    again = bob.api.post("/workflows/import", json={"yaml": text})
    assert again.status_code == 201, again.text
    assert len(bob.api.get("/agents").json()) == 2


def test_an_import_with_problems_names_each_with_its_line(alice: ApiUser) -> None:
    text = """name: Broken
agents:
  - name: Ada
    role: developer
    provider: Nowhere
steps:
  - id: a
    name: A
    dependsOn: [missing]
"""
    response = alice.api.post("/workflows/import", json={"yaml": text})
    assert response.status_code == 422
    problems = response.json()["error"]["details"]["problems"]
    assert [(p["field"], p["line"]) for p in problems] == [("steps[0].dependsOn[0]", 9)]
    assert "missing" in problems[0]["message"]

    # Once the file itself is sound, the provider it names must be one of the user's.
    response = alice.api.post(
        "/workflows/import", json={"yaml": text.replace("dependsOn: [missing]", "")}
    )
    assert response.status_code == 422
    (problem,) = response.json()["error"]["details"]["problems"]
    assert (problem["field"], problem["line"]) == ("agents[0].provider", 5)
    assert "Nowhere" in problem["message"]
    assert alice.api.get("/workflows").json() == []


def test_text_that_is_not_yaml_is_a_422_not_a_crash(alice: ApiUser) -> None:
    response = alice.api.post("/workflows/import", json={"yaml": "name: A\x17"})
    assert response.status_code == 422, response.text
    (problem,) = response.json()["error"]["details"]["problems"]
    assert "not valid YAML" in problem["message"] and "#x0017" in problem["message"]
