"""Templates, knowledge, questions to the user and metrics over HTTP."""

import json

from accord.domain.enums import InteractionType, TriggerReason
from accord.storage.repositories.executions import ExecutionRepository
from accord.team.knowledge import KnowledgeBase
from accord.team.records import TeamRecords
from server.conftest import ApiUser, LiveServer, make_user
from server.test_events import read_frames
from server.test_resources import agent, workflow_body


def recorded_execution(server: LiveServer, user: ApiUser, workflow: dict) -> str:
    """An execution of `workflow` as another process running it would record it."""
    with server.db.session() as s:
        return (
            ExecutionRepository(s)
            .create(
                workflow_id=workflow["id"],
                user_id=user.id,
                trigger_reason=TriggerReason.MANUAL,
                triggered_by=user.id,
                definition={},
            )
            .id
        )


def test_system_templates_are_installed_listed_and_read_only(alice: ApiUser) -> None:
    templates = alice.api.get("/templates").json()
    system = [t for t in templates if t["isSystemTemplate"]]
    assert len(system) >= 5
    assert {t["category"] for t in system} >= {"development", "review", "analysis"}
    review = alice.api.get("/templates", params={"category": "review"}).json()
    assert review and all(t["category"] == "review" for t in review)

    one = system[0]
    assert alice.api.get(f"/templates/{one['id']}").json()["name"] == one["name"]
    refused = alice.api.patch(f"/templates/{one['id']}", json={"name": "mine now"})
    assert refused.status_code == 409
    assert alice.api.delete(f"/templates/{one['id']}").status_code == 409


def test_a_workflow_is_made_from_a_template_and_saved_back_as_one(
    alice: ApiUser, bob: ApiUser
) -> None:
    ada, bo = agent(alice, "Ada", "developer"), agent(alice, "Bo", "reviewer")
    wf = alice.api.post("/workflows", json=workflow_body(ada["id"], bo["id"])).json()
    saved = alice.api.post(f"/workflows/{wf['id']}/template", json={})
    assert saved.status_code == 201
    template = saved.json()
    assert template["isSystemTemplate"] is False and template["category"] == "development"
    assert sorted(template["requiredAgentRoles"]) == ["developer", "reviewer"]

    renamed = alice.api.patch(f"/templates/{template['id']}", json={"name": "Our way"})
    assert renamed.status_code == 200 and renamed.json()["name"] == "Our way"
    assert renamed.json()["templateDefinition"] == template["templateDefinition"]

    made = alice.api.post(
        f"/templates/{template['id']}/workflows",
        json={"participatingAgents": [ada["id"], bo["id"]], "name": "From template"},
    )
    assert made.status_code == 201, made.text
    assert made.json()["templateId"] == template["id"]
    assert made.json()["name"] == "From template"
    assert alice.api.get(f"/templates/{template['id']}").json()["usageCount"] == 1

    # A role nobody plays is refused, naming the role.
    missing = alice.api.post(
        f"/templates/{template['id']}/workflows", json={"participatingAgents": [ada["id"]]}
    )
    assert missing.status_code == 422
    fields = [p["field"] for p in missing.json()["error"]["details"]["problems"]]
    assert fields == ["roleAssignments.reviewer"]

    # Bob sees neither Alice's template nor can he use it.
    assert bob.api.get(f"/templates/{template['id']}").status_code == 404
    assert all(t["id"] != template["id"] for t in bob.api.get("/templates").json())
    bobs_agent = agent(bob)
    stolen = bob.api.post(
        f"/templates/{template['id']}/workflows", json={"participatingAgents": [bobs_agent["id"]]}
    )
    assert stolen.status_code == 404
    assert alice.api.delete(f"/templates/{template['id']}").status_code == 204


def test_knowledge_is_listed_searched_and_validated(
    live_server: LiveServer, alice: ApiUser, bob: ApiUser
) -> None:
    ada, bo = agent(alice, "Ada"), agent(alice, "Bo", "reviewer")
    wf = alice.api.post("/workflows", json=workflow_body(ada["id"], bo["id"])).json()
    execution_id = recorded_execution(live_server, alice, wf)
    with live_server.db.session() as s:
        base = KnowledgeBase(s, workflow_id=wf["id"], user_id=alice.id, execution_id=execution_id)
        cache = base.share(agent_id=ada["id"], title="Cache invalidation", content="Use ETags")
        base.share(agent_id=ada["id"], title="Deploy window", content="Tuesdays only")

    listed = alice.api.get(f"/workflows/{wf['id']}/knowledge").json()
    assert {k["title"] for k in listed} == {"Cache invalidation", "Deploy window"}
    found = alice.api.get(f"/workflows/{wf['id']}/knowledge", params={"q": "etags"}).json()
    assert [k["id"] for k in found] == [cache.id]

    validated = alice.api.post(f"/knowledge/{cache.id}/validations", json={"agentId": bo["id"]})
    assert validated.status_code == 201
    assert validated.json()["validatedByAgents"] == [bo["id"]]
    own = alice.api.post(f"/knowledge/{cache.id}/validations", json={"agentId": ada["id"]})
    assert own.status_code == 409
    foreign = alice.api.post(
        f"/knowledge/{cache.id}/validations", json={"agentId": agent(bob)["id"]}
    )
    assert foreign.status_code == 422
    assert foreign.json()["error"]["details"]["problems"][0]["field"] == "agentId"
    # The validation is an event of the execution that produced the entry.
    with alice.api.stream("GET", f"/executions/{execution_id}/events") as response:
        kinds = [f["event"] for f in read_frames(response, 3)]
    assert kinds == ["knowledge.created", "knowledge.created", "knowledge.updated"]

    assert bob.api.get(f"/workflows/{wf['id']}/knowledge").status_code == 404
    stolen = bob.api.post(f"/knowledge/{cache.id}/validations", json={"agentId": "x"})
    assert stolen.status_code == 404


def test_a_question_to_the_user_is_listed_answered_once_and_streamed(
    live_server: LiveServer, alice: ApiUser, bob: ApiUser
) -> None:
    ada = agent(alice)
    wf = alice.api.post("/workflows", json=workflow_body(ada["id"])).json()
    execution_id = recorded_execution(live_server, alice, wf)
    with live_server.db.session() as s:
        question = TeamRecords(s).add_interaction(
            execution_id=execution_id,
            user_id=alice.id,
            from_agent_id=ada["id"],
            interaction_type=InteractionType.QUESTION,
            message="Which database should we target?",
            to_user_id=alice.id,
            step_id="plan",
            requires_response=True,
        )
    pending = alice.api.get("/questions").json()
    assert [q["id"] for q in pending] == [question.id]
    assert bob.api.get("/questions").json() == []
    assert (
        bob.api.post(f"/interactions/{question.id}/answer", json={"message": "x"}).status_code
        == 404
    )

    answered = alice.api.post(f"/interactions/{question.id}/answer", json={"message": "Postgres"})
    assert answered.status_code == 200
    assert answered.json()["responseMessage"] == "Postgres"
    assert answered.json()["responseStatus"] == "answered"
    assert alice.api.get("/questions").json() == []
    twice = alice.api.post(f"/interactions/{question.id}/answer", json={"message": "SQLite"})
    assert twice.status_code == 409
    assert twice.json()["error"]["details"]["current"] == "answered"

    listed = alice.api.get(
        f"/executions/{execution_id}/interactions", params={"type": "question", "stepId": "plan"}
    ).json()
    assert [i["responseMessage"] for i in listed] == ["Postgres"]
    assert (
        alice.api.get(
            f"/executions/{execution_id}/interactions", params={"type": "feedback"}
        ).json()
        == []
    )
    with alice.api.stream("GET", f"/executions/{execution_id}/events") as response:
        frames = read_frames(response, 2)
    assert [f["event"] for f in frames] == ["interaction.created", "interaction.answered"]
    assert json.loads(frames[1]["data"])["data"]["responseMessage"] == "Postgres"


def test_metrics_of_an_execution_and_a_workflow(live_server: LiveServer, alice: ApiUser) -> None:
    ada = agent(alice)
    wf = alice.api.post("/workflows", json=workflow_body(ada["id"])).json()
    execution_id = recorded_execution(live_server, alice, wf)
    with live_server.db.session() as s:
        KnowledgeBase(s, workflow_id=wf["id"], user_id=alice.id, execution_id=execution_id).share(
            agent_id=ada["id"], title="A finding", content="It holds"
        )
    metrics = alice.api.get(f"/executions/{execution_id}/metrics").json()
    assert metrics["knowledgeItemsCreated"] == 1
    assert [a["agentId"] for a in metrics["agents"]] == [ada["id"]]
    analytics = alice.api.get(f"/workflows/{wf['id']}/analytics").json()
    assert analytics["knowledgeItemsCreated"] == 1
    other = make_user(live_server)
    assert other.api.get(f"/executions/{execution_id}/metrics").status_code == 404
    assert other.api.get(f"/workflows/{wf['id']}/analytics").status_code == 404


def test_a_template_is_created_directly_and_checked_like_a_workflow(alice: ApiUser) -> None:
    body = {
        "name": "Review loop",
        "description": "write, then review",
        "category": "review",
        "requiredAgentRoles": ["writer", "reviewer"],
        "templateDefinition": {
            "steps": [
                {"id": "write", "name": "Write", "assignedAgentRole": "writer"},
                {"id": "review", "name": "Review", "dependsOn": ["write"], "type": "review"},
            ]
        },
    }
    created = alice.api.post("/templates", json=body)
    assert created.status_code == 201, created.text
    assert created.json()["createdByUserId"] == alice.id
    assert created.json()["id"] in {t["id"] for t in alice.api.get("/templates").json()}

    body["templateDefinition"]["steps"][1]["dependsOn"] = ["nowhere"]
    refused = alice.api.post("/templates", json=body)
    assert refused.status_code == 422
    assert refused.json()["error"]["code"] == "invalid_definition"
    assert "dependsOn" in refused.json()["error"]["details"]["problems"][0]["field"]
