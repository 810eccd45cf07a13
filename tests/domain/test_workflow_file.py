"""The YAML workflow format: what a file author sees when a file is right, and when it is not."""

import json
from pathlib import Path

import pytest

from accord.domain.enums import WorkflowType
from accord.domain.workflow_file import (
    WorkflowFileError,
    parse_workflow_file,
    workflow_file_schema,
)

ROOT = Path(__file__).resolve().parents[2]

VALID = """\
name: Review
workflowType: parallel
coordinator: Ada
agents:
  - name: Ada
    role: developer
    skills: [python]
  - name: Rex
    role: reviewer
steps:
  - id: write
    name: Write it
    agent: Ada
  - id: check
    name: Check it
    dependsOn: [write]
    reviewRequired: true
    reviewerRole: reviewer
constraints:
  maxConcurrency: 2
"""


def problems_of(text: str) -> list[tuple[int | None, str, str]]:
    with pytest.raises(WorkflowFileError) as info:
        parse_workflow_file(text, source="wf.yaml")
    return [(p.line, p.field, p.message) for p in info.value.problems]


def test_a_valid_file_becomes_a_create_request_with_agent_ids():
    workflow = parse_workflow_file(VALID)
    request = workflow.create_request(agent_ids={"Ada": "id-ada", "Rex": "id-rex"})
    assert request.workflow_type is WorkflowType.PARALLEL
    assert request.participating_agents == ["id-ada", "id-rex"]
    assert request.coordinator_agent_id == "id-ada"
    write, check = request.configuration.steps
    assert write.preferred_agent_id == "id-ada"
    assert check.depends_on == ["write"] and check.review_required
    assert request.configuration.constraints.max_concurrency == 2
    assert workflow.agents[0].provider == "offline"


def test_snake_case_keys_are_accepted_too():
    workflow = parse_workflow_file(
        VALID.replace("workflowType", "workflow_type").replace("dependsOn", "depends_on")
    )
    assert workflow.workflow_type is WorkflowType.PARALLEL
    assert workflow.steps[1].depends_on == ["write"]


def test_an_unknown_agent_is_named_with_its_line():
    text = VALID.replace("    agent: Ada", "    agent: Zed")
    assert problems_of(text) == [
        (13, "steps[0].agent", "step 'write' names unknown agent 'Zed'"),
    ]


def test_a_cycle_is_reported_on_the_dependsOn_line():
    text = VALID.replace("    agent: Ada", "    agent: Ada\n    dependsOn: [check]")
    [(line, field, message)] = problems_of(text)
    assert (line, field) == (17, "steps[1].dependsOn")
    assert message.startswith("dependency cycle: ") and {"check", "write"} <= set(message.split())


def test_shape_errors_name_field_and_line_and_all_are_reported_at_once():
    text = VALID.replace("    skills: [python]", "    skils: [python]").replace(
        "  maxConcurrency: 2", "  maxConcurrency: lots"
    )
    assert problems_of(text) == [
        (7, "agents[0].skils", "unknown field 'skils'"),
        (
            20,
            "constraints.maxConcurrency",
            "Input should be a valid integer, unable to parse string as an integer",
        ),
    ]


def test_an_unquoted_yes_as_a_step_id_is_explained():
    with pytest.raises(WorkflowFileError) as info:
        parse_workflow_file(VALID.replace("id: check", "id: yes"), source="wf.yaml")
    [problem] = info.value.problems
    assert (problem.line, problem.field) == (14, "steps[1].id")
    assert problem.fix.startswith('quote it (e.g. "yes")')


def test_semantic_problems_use_the_files_terms():
    text = VALID.replace("reviewerRole: reviewer", "reviewerRole: auditor").replace(
        "coordinator: Ada", "coordinator: Ghost"
    )
    lines = problems_of(text)
    assert (3, "coordinator", "unknown agent 'Ghost'") in lines
    assert any(field == "steps[1].reviewerRole" and line == 18 for line, field, _ in lines)


def test_missing_fields_and_yaml_syntax_errors_have_lines():
    assert problems_of("name: x\nagents:\n  - name: a\n    role: r\n") == [
        (1, "steps", "this field is required"),
    ]
    [(line, field, message)] = problems_of("name: x\nsteps: [\n  - id: a\n")
    assert line == 3 and message.startswith("not valid YAML")


def test_a_duplicate_key_is_an_error_not_a_silent_overwrite():
    assert problems_of(VALID.replace("name: Review\n", "name: Review\nname: Again\n")) == [
        (2, "name", "this key appears twice"),
    ]


def test_ids_are_refused_in_favour_of_names():
    [(line, field, message)] = problems_of(
        VALID.replace("    agent: Ada", "    preferredAgentId: abc")
    )
    assert (line, field) == (11, "steps[0]")
    assert "write agent: <agent name>" in message


def test_condition_needs_a_conditional_workflow_and_a_known_step():
    text = VALID.replace(
        "    reviewRequired: true",
        "    condition: steps.nope.confidence > 1\n    reviewRequired: true",
    )
    [(line, field, message)] = problems_of(text)
    assert (line, field) == (17, "steps[1].condition")
    assert message == "step 'check' has a condition but the workflow is parallel"


@pytest.mark.parametrize("path", sorted((ROOT / "examples").glob("*.yaml")), ids=lambda p: p.name)
def test_every_example_is_valid(path: Path):
    parse_workflow_file(path.read_text(), source=path.name)


def test_the_published_schema_is_the_generated_one():
    committed = json.loads((ROOT / "schemas" / "workflow.schema.json").read_text())
    assert committed == workflow_file_schema(), "run: accord schema > schemas/workflow.schema.json"


def test_the_schema_accepts_the_examples_and_refuses_unknown_keys():
    import jsonschema
    import yaml

    schema = workflow_file_schema()
    for path in (ROOT / "examples").glob("*.yaml"):
        jsonschema.validate(yaml.safe_load(path.read_text()), schema)
    bad = yaml.safe_load(VALID.replace("    skills: [python]", "    skils: [python]"))
    with pytest.raises(jsonschema.ValidationError):
        jsonschema.validate(bad, schema)
