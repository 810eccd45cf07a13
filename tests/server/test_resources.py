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


def test_duplicate_names_are_a_409_saying_which_name_exists(alice: ApiUser, bob: ApiUser) -> None:
    ada, bo = agent(alice, "Ada"), agent(alice, "Bo", "reviewer")
    agent(bob, "Ada")  # another user's names are theirs
    again = alice.api.post("/agents", json={"name": "ada", "role": "tester"})
    assert again.status_code == 409
    error = again.json()["error"]
    assert error["code"] == "conflict"
    assert "'Ada' already exists" in error["message"] and "pick another name" in error["message"]
    assert error["details"]["existingId"] == ada["id"]
    renamed = alice.api.patch(f"/agents/{bo['id']}", json={"name": "ADA"})
    assert renamed.status_code == 409
    assert [a["name"] for a in alice.api.get("/agents").json()] == ["Ada", "Bo"]

    body = {"name": "slow", "kind": "offline", "defaultModel": "offline"}
    slow = alice.api.post("/providers", json=body)
    assert slow.status_code == 201
    assert alice.api.post("/providers", json=body | {"name": "SLOW"}).status_code == 409
    fast = alice.api.post("/providers", json=body | {"name": "fast"}).json()
    clash = alice.api.patch(f"/providers/{fast['id']}", json={"name": "slow"})
    assert clash.status_code == 409 and "'slow' already exists" in clash.json()["error"]["message"]

    builtin = alice.api.post("/providers", json=body | {"name": "offline"})
    assert builtin.status_code == 422
    [problem] = builtin.json()["error"]["details"]["problems"]
    assert problem["field"] == "name" and "built-in offline model" in problem["message"]

    saved = alice.api.post(f"/workflows/{_workflow_id(alice, ada, bo)}/template", json={}).json()
    copy = _template_fields(saved) | {"name": "Our way"}
    assert alice.api.post("/templates", json=copy).status_code == 201
    assert alice.api.post("/templates", json=copy | {"name": "our WAY"}).status_code == 409
    clash = alice.api.patch(f"/templates/{saved['id']}", json={"name": "Our way"})
    assert clash.status_code == 409


def _workflow_id(user: ApiUser, *agents: dict) -> str:
    response = user.api.post("/workflows", json=workflow_body(*(a["id"] for a in agents)))
    assert response.status_code == 201, response.text
    return str(response.json()["id"])


def _template_fields(template: dict) -> dict:
    keep = ("description", "category", "workflowType", "templateDefinition", "requiredAgentRoles")
    return {k: template[k] for k in keep}


def test_saving_a_workflow_as_a_template_twice_numbers_the_default_name(alice: ApiUser) -> None:
    ada, bo = agent(alice, "Ada"), agent(alice, "Bo", "reviewer")
    workflow_id = _workflow_id(alice, ada, bo)
    first = alice.api.post(f"/workflows/{workflow_id}/template", json={}).json()
    second = alice.api.post(f"/workflows/{workflow_id}/template", json={}).json()
    assert (first["name"], second["name"]) == ("Ship it", "Ship it (2)")
    named = alice.api.post(f"/workflows/{workflow_id}/template", json={"name": "ship IT"})
    assert named.status_code == 409


def test_a_provider_that_could_not_work_is_a_422_naming_the_field(alice: ApiUser) -> None:
    compatible = {"name": "local", "kind": "openai_compatible", "defaultModel": "llama3"}
    for body, field, fix in [
        (compatible, "baseUrl", "set baseUrl"),
        (compatible | {"baseUrl": "localhost:11434"}, "baseUrl", "full URL"),
        (
            {
                "name": "o",
                "kind": "offline",
                "defaultModel": "m",
                "settings": {"latencySeconds": "abc"},
            },
            "settings.latencySeconds",
            "set latencySeconds to a number from 0 to 3600",
        ),
        (
            compatible | {"baseUrl": "http://127.0.0.1:11434/v1", "settings": {"stream": "no"}},
            "settings.stream",
            "set stream to false",
        ),
    ]:
        refused = alice.api.post("/providers", json=body)
        assert refused.status_code == 422, refused.text
        error = refused.json()["error"]
        assert error["code"] == "validation_error"
        [problem] = error["details"]["problems"]
        assert problem["field"] == field and fix in problem["fix"], problem
    assert alice.api.get("/providers").json() == []

    ok = alice.api.post("/providers", json=compatible | {"baseUrl": "http://127.0.0.1:11434/v1"})
    assert ok.status_code == 201
    unset = alice.api.patch(f"/providers/{ok.json()['id']}", json={"baseUrl": None})
    assert unset.status_code == 422
    assert unset.json()["error"]["details"]["problems"][0]["field"] == "baseUrl"
    bad = alice.api.patch(f"/providers/{ok.json()['id']}", json={"settings": {"maxRetries": -1}})
    assert bad.status_code == 422
    assert bad.json()["error"]["details"]["problems"][0]["field"] == "settings.maxRetries"


def test_blank_names_and_roles_are_refused(alice: ApiUser) -> None:
    response = alice.api.post("/agents", json={"name": "  ", "role": " "})
    assert response.status_code == 422
    problems = response.json()["error"]["details"]["problems"]
    assert {p["field"] for p in problems} == {"name", "role"}
    stripped = agent(alice, "  Ada  ")
    assert stripped["name"] == "Ada"
