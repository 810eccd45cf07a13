"""Code and YAML are one thing: the same validation, the same stored definition."""

import runpy
from pathlib import Path
from typing import Any

import pytest

import accord
from accord.domain.workflow_file import WorkflowFileError, parse_workflow_file
from accord.storage.db import Database
from accord.storage.repositories.agents import AgentRepository
from accord.storage.repositories.workflows import WorkflowRepository
from accord.team.workflow_files import install_workflow, load_workflow
from tests.library.conftest import EXAMPLES

YAML_EXAMPLES = sorted(EXAMPLES.glob("*.yaml"))
CODE_TWINS = {
    "pipeline.py": "code-review.yaml",
    "parallel.py": "parallel-research.yaml",
    "conditional.py": "conditional-triage.yaml",
    "recursive.py": "recursive-release.yaml",
}


@pytest.mark.parametrize("path", YAML_EXAMPLES, ids=lambda p: p.name)
def test_every_example_round_trips_through_python(path: Path):
    workflow = accord.Workflow.from_yaml(path)
    again = parse_workflow_file(workflow.to_yaml())
    assert again == parse_workflow_file(path.read_text())
    for step in workflow.steps:
        if isinstance(step.sub_workflow, accord.Workflow):  # read from its own file
            assert step.sub_workflow.name == "Security audit"


def stored(db: Database, user_id: str, workflow_id: str) -> dict[str, Any]:
    """A stored workflow with agent IDs replaced by names and sub-workflows by theirs, so
    two installs can be compared."""
    with db.read_session() as session:
        workflows = WorkflowRepository(session)
        row = workflows.get(workflow_id, user_id=user_id)
        agents = {a.id: a for a in AgentRepository(session).list(user_id=user_id)}
    definition = row.to_json_dict()
    for step in definition["configuration"]["steps"]:
        if step["preferredAgentId"]:
            step["preferredAgentId"] = agents[step["preferredAgentId"]].name
        if step["subWorkflowId"]:
            step["subWorkflowId"] = stored(db, user_id, step["subWorkflowId"])
    return {
        "name": row.name,
        "description": row.description,
        "workflowType": row.workflow_type.value,
        "configuration": definition["configuration"],
        "coordinator": agents[row.coordinator_agent_id].name if row.coordinator_agent_id else None,
        "agents": [
            agents[a].model_dump(mode="json", exclude={"id", "user_id", "created_at", "updated_at"})
            for a in row.participating_agents
        ],
    }


def install(db: Database, user_id: str, workflow: accord.Workflow) -> str:
    with db.session() as session:
        return install_workflow(session, user_id=user_id, loaded=workflow.loaded()).id


@pytest.mark.parametrize("script", sorted(CODE_TWINS), ids=str)
def test_a_workflow_built_in_code_stores_the_same_definition_as_its_yaml(
    db: Database, user_id: str, script: str
):
    from_code = runpy.run_path(str(EXAMPLES / "python" / script), run_name="example")["workflow"]
    yaml_file = EXAMPLES / CODE_TWINS[script]
    with db.session() as session:
        from_yaml = install_workflow(session, user_id=user_id, loaded=load_workflow(yaml_file)).id
    expected = stored(db, user_id, from_yaml)
    assert install(db, user_id, from_code) == from_yaml  # the same workflow, matched by name
    assert stored(db, user_id, from_yaml) == expected
    assert from_code.workflow_type == expected["workflowType"]


def test_problems_are_reported_as_for_a_file_every_one_at_once():
    text = (
        "name: Broken\nagents:\n  - name: Ada\n    role: dev\n"
        "steps:\n  - id: a\n    name: A\n    agent: Bob\n    dependsOn: [b]\n"
        "  - id: b\n    name: B\n    dependsOn: [a]\n    condition: steps.zz.status == 'done'\n"
    )
    with pytest.raises(WorkflowFileError) as from_file:
        parse_workflow_file(text)
    ada = accord.Agent(name="Ada", role="dev")
    with pytest.raises(accord.ValidationError) as from_code:
        accord.Workflow(
            name="Broken",
            agents=[ada],
            steps=[
                accord.Step(id="a", name="A", agent="Bob", depends_on=["b"]),
                accord.Step(
                    id="b", name="B", depends_on=["a"], condition="steps.zz.status == 'done'"
                ),
            ],
        )

    def triples(problems: Any) -> list[tuple[str, str, str]]:
        return [(p.field, p.message, p.fix) for p in problems]

    assert len(from_code.value.problems) >= 3
    assert triples(from_code.value.problems) == triples(from_file.value.problems)
    message = str(from_code.value)
    assert message.startswith(
        f"Invalid workflow 'Broken' ({len(from_code.value.problems)} problems)"
    )
    assert "steps[0].agent: step 'a' names unknown agent 'Bob'\n    fix: use one of: Ada" in message


def test_a_bad_value_names_its_field_and_a_fix():
    with pytest.raises(accord.ValidationError) as error:
        accord.Workflow(
            name="Bad",
            agents=[accord.Agent(name="Ada", role="dev")],
            steps=[accord.Step(id="a", name="A", type="dance")],  # type: ignore[arg-type]
            constraints=accord.Constraints(max_concurrency="many"),  # type: ignore[arg-type]
        )
    fields = {p.field: p.fix for p in error.value.problems}
    assert "use one of the values listed" in fields["steps[0].type"]
    assert (
        fields["constraints.maxConcurrency"]
        == "see schemas/workflow.schema.json for the allowed values"
    )


def test_models_are_written_as_a_file_writes_them(tmp_path: Path):
    from pydantic_ai.models.test import TestModel

    workflow = accord.Workflow(
        name="Models",
        agents=[
            accord.Agent(name="Off", role="a"),
            accord.Agent(name="Named", role="b", model="openai:gpt-4o-mini"),
            accord.Agent(name="Saved", role="c", model="work"),
            accord.Agent(name="Override", role="d", provider="work", model="gpt-4o"),
            accord.Agent(name="Object", role="e", model=TestModel()),
        ],
        steps=[accord.Step(id="a", name="A")],
    )
    agents = {a["name"]: a for a in parse_workflow_file(workflow.to_yaml()).model_dump()["agents"]}
    assert (agents["Off"]["provider"], agents["Off"]["model"]) == ("offline", None)
    assert (agents["Named"]["provider"], agents["Named"]["model"]) == (
        "offline",
        "openai:gpt-4o-mini",
    )
    assert (agents["Saved"]["provider"], agents["Saved"]["model"]) == ("work", None)
    assert (agents["Override"]["provider"], agents["Override"]["model"]) == ("work", "gpt-4o")
    assert agents["Object"]["model"] == "python:test:test"
    assert workflow.in_process_models().keys() == {"Object"}
    again = accord.Workflow.from_yaml(workflow.save(tmp_path / "models.yaml"))
    assert again.to_yaml() == workflow.to_yaml()


def test_a_sub_workflow_built_in_code_is_saved_beside_its_parent(tmp_path: Path):
    recursive = runpy.run_path(str(EXAMPLES / "python" / "recursive.py"), run_name="example")
    path = recursive["workflow"].save(tmp_path / "release.yaml")
    assert (tmp_path / "security-audit.yaml").is_file()
    loaded = load_workflow(path)
    assert loaded.children["audit"].workflow.name == "Security audit"


def test_mcp_servers_and_allow_lists_are_the_files(tmp_path: Path):
    workflow = accord.Workflow(
        name="Tools",
        agents=[accord.Agent(name="Ada", role="dev", tools=["files.read_*", "workspace"])],
        steps=[accord.Step(id="a", name="A")],
        mcp_servers={
            "files": accord.McpServer(command="npx", args=["-y", "server-filesystem", "."]),
            "search": {"url": "https://search.example/mcp", "requireApproval": True},
        },
    )
    again = accord.Workflow.from_yaml(workflow.save(tmp_path / "tools.yaml"))
    assert again.to_yaml() == workflow.to_yaml()
    assert again.mcp_servers["search"].require_approval is True
    assert again.agents[0].tools == ("files.read_*", "workspace")
    with pytest.raises(accord.ValidationError) as error:
        accord.Workflow(
            name="Tools",
            agents=[accord.Agent(name="Ada", role="dev", tools=["fiels"])],
            steps=[accord.Step(id="a", name="A")],
            mcp_servers={"files": accord.McpServer(command="npx")},
        )
    (problem,) = error.value.problems
    assert problem.field == "agents[0].tools[0]" and "files" in problem.fix


def test_triggers_are_the_files_triggers_block(tmp_path: Path):
    workflow = accord.Workflow(
        name="Nightly",
        agents=[accord.Agent(name="Ada", role="dev")],
        steps=[accord.Step(id="a", name="A")],
        triggers={"schedules": [{"cron": "0 3 * * *", "timezone": "Europe/Paris"}]},
    )
    again = accord.Workflow.from_yaml(workflow.save(tmp_path / "nightly.yaml"))
    assert again.triggers["schedules"][0]["cron"] == "0 3 * * *"
    assert again.to_yaml() == workflow.to_yaml()
    with pytest.raises(accord.ValidationError) as error:
        accord.Workflow(
            name="Nightly",
            agents=[accord.Agent(name="Ada", role="dev")],
            steps=[accord.Step(id="a", name="A")],
            triggers={"schedules": [{"cron": "every day"}]},
        )
    assert error.value.problems[0].field.startswith("triggers.schedules[0]")


@accord.tool
def lookup_price(product: str) -> float:
    """The unit price of a product."""
    return 12.5


@accord.tool(name="lookup_price", require_approval=True)
def another_price(product: str) -> float:
    """Another price under the same name."""
    return 1.0


def test_function_tools_are_written_as_references_to_their_functions(tmp_path: Path):
    workflow = accord.Workflow(
        name="Pricing",
        agents=[accord.Agent(name="Ada", role="sales", tools=[lookup_price, "workspace"])],
        steps=[accord.Step(id="a", name="A")],
        toolkits={"workspace": {"requireApproval": ["write_file"]}},
    )
    text = workflow.to_yaml()
    assert lookup_price.reference.endswith("test_definition:lookup_price")
    assert f"functionTools:\n  lookup_price:\n    function: {lookup_price.reference}\n" in text
    again = accord.Workflow.from_yaml(workflow.save(tmp_path / "pricing.yaml"))
    assert again.to_yaml() == text
    assert again.agents[0].tools == ("lookup_price", "workspace")
    assert again.function_tools["lookup_price"].function == lookup_price.reference
    assert again.toolkits["workspace"].needs_approval("write_file")
    assert again.loaded().workflow == workflow.loaded().workflow


def test_two_functions_under_one_name_and_bad_declarations_are_refused():
    with pytest.raises(accord.ValidationError) as error:
        accord.Workflow(
            name="Pricing",
            agents=[
                accord.Agent(name="Ada", role="sales", tools=[lookup_price]),
                accord.Agent(name="Bo", role="ops", tools=[another_price]),
            ],
            steps=[accord.Step(id="a", name="A")],
        )
    (problem,) = error.value.problems
    assert problem.field == "agents[1].tools[0]"
    assert "two different functions are tools named 'lookup_price'" in problem.message
    with pytest.raises(accord.ValidationError) as error:
        accord.Workflow(
            name="Pricing",
            agents=[accord.Agent(name="Ada", role="sales", tools=["lookup_prise"])],
            steps=[accord.Step(id="a", name="A")],
            function_tools={"lookup_price": {"function": "pricing"}, "files": {"function": "a:b"}},
            toolkits={"browser": {"requireApproval": True}},
            mcp_servers={"files": {"command": "npx"}},
        )
    found = {(p.field, p.message) for p in error.value.problems}
    assert found == {
        (
            "functionTools.lookup_price.function",
            "'pricing' does not say where a function is defined",
        ),
        ("functionTools.files", "'files' is also the name of an MCP server or a built-in toolkit"),
        ("toolkits.browser", "'browser' is not a built-in toolkit"),
        (
            "agents[0].tools[0]",
            "agent 'Ada' may use 'lookup_prise', but no server or toolkit named 'lookup_prise' "
            "is declared",
        ),
    }
