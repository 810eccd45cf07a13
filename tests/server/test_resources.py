"""Providers, agents and workflows over HTTP: CRUD, the error shapes, isolation of users."""

from sqlalchemy import select

from accord.storage.tables import llm_providers
from server.conftest import ApiUser, LiveServer, make_user


def agent(user: ApiUser, name: str = "Ada", role: str = "developer", **extra) -> dict:
    response = user.api.post("/agents", json={"name": name, "role": role, **extra})
    assert response.status_code == 201, response.text
    return response.json()


def workflow_body(*agent_ids: str, **extra) -> dict:
    return {
        "name": "Ship it",
        "description": "plan then build",
        "workflowType": "pipeline",
        "participatingAgents": list(agent_ids),
        "configuration": {
            "steps": [
                {"id": "plan", "name": "Plan", "type": "analysis"},
                {"id": "build", "name": "Build", "dependsOn": ["plan"]},
            ]
        },
        **extra,
    }


def test_providers_keep_the_api_key_write_only(live_server: LiveServer, alice: ApiUser) -> None:
    created = alice.api.post(
        "/providers",
        json={
            "name": "OpenAI",
            "kind": "openai",
            "defaultModel": "gpt-4o-mini",
            "apiKey": "sk-secret-123",
        },
    )
    assert created.status_code == 201
    provider = created.json()
    assert provider["hasApiKey"] is True and "apiKey" not in provider
    assert "sk-secret-123" not in created.text
    with live_server.db.session() as s:
        stored = s.execute(
            select(llm_providers.c.encrypted_api_key).where(llm_providers.c.id == provider["id"])
        ).scalar_one()
    assert "sk-secret-123" not in stored

    cleared = alice.api.patch(f"/providers/{provider['id']}", json={"apiKey": None})
    assert cleared.json()["hasApiKey"] is False
    renamed = alice.api.patch(f"/providers/{provider['id']}", json={"name": "Mine"}).json()
    assert renamed["name"] == "Mine" and renamed["defaultModel"] == "gpt-4o-mini"
    assert [p["id"] for p in alice.api.get("/providers").json()] == [provider["id"]]
    assert alice.api.delete(f"/providers/{provider['id']}").status_code == 204
    assert alice.api.get(f"/providers/{provider['id']}").status_code == 404


def test_agents_are_created_listed_shown_updated_and_deleted(alice: ApiUser) -> None:
    ada = agent(alice, skills=["python", "sql"])
    assert ada["skills"] == ["python", "sql"] and ada["llmProviderId"] is None
    assert alice.api.get(f"/agents/{ada['id']}").json() == ada
    updated = alice.api.patch(f"/agents/{ada['id']}", json={"role": "architect"}).json()
    assert updated["role"] == "architect" and updated["name"] == "Ada"
    assert [a["id"] for a in alice.api.get("/agents").json()] == [ada["id"]]
    assert alice.api.delete(f"/agents/{ada['id']}").status_code == 204
    assert alice.api.get("/agents").json() == []


def test_an_agent_taking_part_in_a_workflow_cannot_be_deleted(alice: ApiUser) -> None:
    ada = agent(alice)
    assert alice.api.post("/workflows", json=workflow_body(ada["id"])).status_code == 201
    response = alice.api.delete(f"/agents/{ada['id']}")
    assert response.status_code == 409
    assert response.json()["error"]["code"] == "conflict"


def test_a_provider_an_agent_speaks_through_cannot_be_deleted(alice: ApiUser) -> None:
    provider = alice.api.post(
        "/providers", json={"name": "Local", "kind": "offline", "defaultModel": "accord-offline"}
    ).json()
    ada = agent(alice, llmProviderId=provider["id"])
    response = alice.api.delete(f"/providers/{provider['id']}")
    assert response.status_code == 409
    assert "used by agent(s) Ada" in response.json()["error"]["message"]
    assert alice.api.get(f"/agents/{ada['id']}").json()["llmProviderId"] == provider["id"]
    assert alice.api.patch(f"/agents/{ada['id']}", json={"llmProviderId": None}).status_code == 200
    assert alice.api.delete(f"/providers/{provider['id']}").status_code == 204


def test_workflows_are_created_listed_shown_updated_and_deleted(alice: ApiUser) -> None:
    ada, bo = agent(alice), agent(alice, "Bo", "reviewer")
    created = alice.api.post("/workflows", json=workflow_body(ada["id"], bo["id"]))
    assert created.status_code == 201
    wf = created.json()
    assert wf["status"] == "draft" and wf["totalSteps"] == 2
    assert wf["configuration"]["steps"][1]["dependsOn"] == ["plan"]

    assert alice.api.get(f"/workflows/{wf['id']}").json()["name"] == "Ship it"
    patched = alice.api.patch(f"/workflows/{wf['id']}", json={"name": "Ship it now"}).json()
    assert patched["name"] == "Ship it now" and patched["participatingAgents"] == [
        ada["id"],
        bo["id"],
    ]
    assert [w["id"] for w in alice.api.get("/workflows").json()] == [wf["id"]]
    assert alice.api.get("/workflows", params={"status": "completed"}).json() == []
    assert alice.api.delete(f"/workflows/{wf['id']}").status_code == 204
    assert alice.api.get(f"/workflows/{wf['id']}").status_code == 404


def test_an_invalid_body_is_a_422_naming_the_field(alice: ApiUser) -> None:
    response = alice.api.post("/agents", json={"name": "", "role": "dev", "skills": "python"})
    assert response.status_code == 422
    error = response.json()["error"]
    assert error["code"] == "validation_error"
    fields = {p["field"] for p in error["details"]["problems"]}
    assert fields == {"name", "skills"}
    assert all(p["fix"] for p in error["details"]["problems"])

    nested = alice.api.post(
        "/workflows",
        json=workflow_body("x")
        | {"configuration": {"steps": [{"id": "a", "name": "A", "type": "dance"}]}},
    )
    assert nested.status_code == 422
    (problem,) = nested.json()["error"]["details"]["problems"]
    assert problem["field"] == "configuration.steps[0].type"
    assert "analysis" in problem["fix"]

    not_json = alice.api.post(
        "/agents", content=b"{not json", headers={"Content-Type": "application/json"}
    )
    assert not_json.status_code == 422
    assert not_json.json()["error"]["code"] == "validation_error"


def test_a_definition_that_cannot_run_is_refused_with_each_fault(alice: ApiUser) -> None:
    ada = agent(alice)
    body = workflow_body(ada["id"])
    body["configuration"]["steps"][1]["dependsOn"] = ["nowhere"]
    response = alice.api.post("/workflows", json=body)
    assert response.status_code == 422
    error = response.json()["error"]
    assert error["code"] == "invalid_definition"
    assert [p["field"] for p in error["details"]["problems"]] == [
        "configuration.steps[1].dependsOn[0]"
    ]
    assert alice.api.get("/workflows").json() == []

    report = alice.api.post("/workflows/validate", json=body).json()
    assert report["valid"] is False
    assert report["problems"][0]["field"] == "configuration.steps[1].dependsOn[0]"
    assert alice.api.post("/workflows/validate", json=workflow_body(ada["id"])).json() == {
        "valid": True,
        "problems": [],
    }


def test_each_of_another_users_resources_is_not_found(any_live_server: LiveServer) -> None:
    alice, bob = make_user(any_live_server, "Alice"), make_user(any_live_server, "Bob")
    provider = alice.api.post(
        "/providers", json={"name": "Local", "kind": "offline", "defaultModel": "offline"}
    ).json()
    ada = agent(alice, llmProviderId=provider["id"])
    wf = alice.api.post("/workflows", json=workflow_body(ada["id"])).json()

    for path in (f"/providers/{provider['id']}", f"/agents/{ada['id']}", f"/workflows/{wf['id']}"):
        for method in ("GET", "PATCH", "DELETE"):
            response = bob.api.request(method, path, json={} if method == "PATCH" else None)
            assert response.status_code == 404, (method, path, response.text)
            assert response.json()["error"]["code"] == "not_found"
    assert bob.api.get("/agents").json() == [] and bob.api.get("/workflows").json() == []
    assert alice.api.get(f"/workflows/{wf['id']}").status_code == 200

    # Naming Alice's agent or provider in Bob's own definitions is refused, not borrowed.
    refused = bob.api.post("/workflows", json=workflow_body(ada["id"]))
    assert refused.status_code == 422
    (problem,) = refused.json()["error"]["details"]["problems"]
    assert problem["field"] == "participatingAgents[0]" and "not yours" in problem["message"]
    borrowed = bob.api.post(
        "/agents", json={"name": "B", "role": "r", "llmProviderId": provider["id"]}
    )
    assert borrowed.status_code == 422
    assert borrowed.json()["error"]["details"]["problems"][0]["field"] == "llmProviderId"


def test_a_value_the_database_cannot_store_is_a_422(any_live_server: LiveServer) -> None:
    """Postgres refuses NUL characters in text; that is bad input, never a 500."""
    user = make_user(any_live_server)
    response = user.api.post("/agents", json={"name": "Ada\u0000", "role": "developer"})
    if response.status_code == 201:  # SQLite stores it, and gives it back intact
        assert response.json()["name"] == "Ada\u0000"
    else:
        assert response.status_code == 422
        assert response.json()["error"]["code"] == "validation_error"
    assert user.api.get("/me").status_code == 200
