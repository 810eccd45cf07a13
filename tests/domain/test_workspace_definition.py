"""A workflow's `workspace.path`: relative to its file in YAML, absolute in the API."""

from pathlib import Path

import pytest

from accord.domain.enums import WorkflowType
from accord.domain.errors import InvalidDefinition
from accord.domain.plan import compile_workflow
from accord.domain.workflow import WorkflowConfiguration, WorkflowStep, WorkspaceSettings
from accord.domain.workflow_file import WorkflowFileError, parse_workflow_file
from tests.domain.test_plan import AGENTS

TEAM = """name: Files team
agents:
  - name: Wren
    role: writer
steps:
  - id: write
    name: Write it
"""


def _compile(path: str) -> None:
    compile_workflow(
        workflow_type=WorkflowType.PIPELINE,
        configuration=WorkflowConfiguration(
            steps=[WorkflowStep(id="a", name="A")], workspace=WorkspaceSettings(path=path)
        ),
        participating_agents=["ana"],
        coordinator_agent_id=None,
        owned_agents=AGENTS,
    )


def test_a_file_names_its_folder_relative_to_itself(tmp_path: Path) -> None:
    workflow = parse_workflow_file(TEAM + "workspace:\n  path: ../shared\n")
    configuration = workflow.configuration(base_dir=tmp_path / "flows")
    assert configuration.workspace.path == str(tmp_path / "shared")
    home = parse_workflow_file(TEAM + "workspace: {path: ~/reports}\n")
    assert home.configuration().workspace.path == "~/reports"  # expanded where it runs
    assert parse_workflow_file(TEAM).configuration().workspace.path is None


def test_a_blank_folder_is_a_problem_on_its_line() -> None:
    with pytest.raises(WorkflowFileError) as caught:
        parse_workflow_file(TEAM + "workspace:\n  path: ' '\n", source="team.yaml")
    [problem] = caught.value.problems
    assert (problem.field, problem.line) == ("workspace.path", 9)
    assert "blank" in problem.message


def test_the_api_takes_absolute_folders_only() -> None:
    _compile("/srv/accord/out")
    _compile("~/out")
    with pytest.raises(InvalidDefinition) as caught:
        _compile("out/reports")
    [problem] = caught.value.problems
    assert problem.field == "configuration.workspace.path"
    assert "relative path" in problem.message and "absolute" in problem.fix
