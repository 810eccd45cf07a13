"""The `workspace` toolkit as a model meets it: paths that leave the folder are refused with
a message it can act on, sizes are limited, and every write records who made it."""

import os
import stat
from pathlib import Path
from typing import Any

import pytest
from pydantic_ai import ModelRetry
from sqlalchemy import select

from accord.domain.workflow import CreateWorkflowRequest, WorkflowConfiguration, WorkflowStep
from accord.storage.db import Database
from accord.storage.repositories.agents import AgentRepository
from accord.storage.repositories.events import EventRepository
from accord.storage.repositories.executions import ExecutionRepository
from accord.storage.repositories.workflows import WorkflowRepository
from accord.storage.tables import workspace_files
from accord.tools.workspace import FileAuthor, record_writes, workspace_toolset
from accord.tools.workspace_folder import Workspace, WorkspaceLimits, list_files, open_workspace


async def call(toolset: Any, tool: str, **arguments: Any) -> str:
    result = await toolset.tools[tool].function(**arguments)
    assert isinstance(result, str)
    return result


@pytest.fixture
def folder(tmp_path: Path) -> Workspace:
    return Workspace(tmp_path / "ws").ensure()


async def test_files_are_written_listed_read_edited_and_searched(folder: Workspace) -> None:
    tools = workspace_toolset(folder)
    assert await call(tools, "list_files") == "The workspace is empty."
    assert await call(tools, "write_file", path="docs/plan.md", content="# Plan\nTODO: ship\n") == (
        "Wrote 18 bytes to docs/plan.md."
    )
    await call(tools, "write_file", path="main.py", content="print('hi')  # TODO: tests\n")
    assert await call(tools, "list_files") == "docs/plan.md (18 bytes)\nmain.py (27 bytes)"
    assert await call(tools, "list_files", folder="docs") == "docs/plan.md (18 bytes)"
    assert await call(tools, "read_file", path="docs/plan.md") == "# Plan\nTODO: ship\n"
    assert await call(tools, "search_files", pattern=r"todo:", ignore_case=True) == (
        "docs/plan.md:2: TODO: ship\nmain.py:1: print('hi')  # TODO: tests"
    )
    await call(tools, "edit_file", path="docs/plan.md", old_text="ship", new_text="ship it")
    assert (folder.root / "docs/plan.md").read_text() == "# Plan\nTODO: ship it\n"
    with pytest.raises(ModelRetry, match="occurs 2 times"):
        await call(tools, "edit_file", path="main.py", old_text="i", new_text="I")
    with pytest.raises(ModelRetry, match="no file 'missing.md'"):
        await call(tools, "read_file", path="missing.md")
    with pytest.raises(ModelRetry, match="not a valid regular expression"):
        await call(tools, "search_files", pattern="TODO(")


async def test_the_folder_and_its_files_are_private(folder: Workspace) -> None:
    await call(workspace_toolset(folder), "write_file", path="a/b/c.txt", content="x")
    for path in (folder.root, folder.root / "a", folder.root / "a/b"):
        assert stat.S_IMODE(path.stat().st_mode) == 0o700
    assert stat.S_IMODE((folder.root / "a/b/c.txt").stat().st_mode) == 0o600


@pytest.mark.parametrize(
    ("path", "why"),
    [
        ("../outside.txt", "leads outside the workspace \\(through '..'\\)"),
        ("docs/../../outside.txt", "leads outside the workspace"),
        ("/etc/passwd", "is an absolute path"),
        ("link/secret.txt", "leads outside the workspace \\(through a symlink\\)"),
        ("file-link", "leads outside the workspace \\(through a symlink\\)"),
    ],
)
async def test_paths_that_leave_the_folder_are_refused(
    folder: Workspace, tmp_path: Path, path: str, why: str
) -> None:
    outside = tmp_path / "outside"
    outside.mkdir()
    (outside / "secret.txt").write_text("secret")
    (folder.root / "link").symlink_to(outside)
    (folder.root / "file-link").symlink_to(outside / "secret.txt")
    tools = workspace_toolset(folder)
    for tool, arguments in (
        ("read_file", {"path": path}),
        ("write_file", {"path": path, "content": "overwritten"}),
        ("edit_file", {"path": path, "old_text": "secret", "new_text": "x"}),
    ):
        with pytest.raises(ModelRetry, match=why):
            await call(tools, tool, **arguments)
    assert (outside / "secret.txt").read_text() == "secret"
    assert not (tmp_path / "outside.txt").exists()
    assert sorted(os.listdir(outside)) == ["secret.txt"]
    # Listing and searching do not follow the symlinks either.
    assert await call(tools, "list_files") == "The workspace is empty."
    assert await call(tools, "search_files", pattern="secret") == "No line matches 'secret'."


async def test_file_and_total_sizes_are_limited(folder: Workspace) -> None:
    tools = workspace_toolset(folder, limits=WorkspaceLimits(max_file_bytes=10, max_total_bytes=25))
    with pytest.raises(ModelRetry, match="11 bytes is more than the 10 bytes"):
        await call(tools, "write_file", path="big.txt", content="x" * 11)
    await call(tools, "write_file", path="a.txt", content="x" * 10)
    await call(tools, "write_file", path="b.txt", content="x" * 10)
    with pytest.raises(ModelRetry, match="to 30 bytes, over its limit of 25"):
        await call(tools, "write_file", path="c.txt", content="x" * 10)
    await call(tools, "write_file", path="a.txt", content="y" * 5)  # a rewrite counts once
    await call(tools, "write_file", path="c.txt", content="z" * 10)
    assert folder.total_size() == 25
    assert not (folder.root / "big.txt").exists()


def _execution(db: Database, user_id: str) -> tuple[str, str]:
    with db.session() as s:
        agent = AgentRepository(s).create(user_id=user_id, name="Wren", role="writer")
        workflow = WorkflowRepository(s).create(
            user_id,
            CreateWorkflowRequest(
                name="Write",
                description="",
                participating_agents=[agent.id],
                configuration=WorkflowConfiguration(steps=[WorkflowStep(id="w", name="W")]),
            ),
        )
        from accord.domain.enums import TriggerReason

        execution = ExecutionRepository(s).create(
            workflow_id=workflow.id,
            user_id=user_id,
            trigger_reason=TriggerReason.MANUAL,
            triggered_by=user_id,
            definition={},
        )
    return execution.id, agent.id


async def test_each_write_records_its_step_attempt_and_agent(
    db: Database, user_id: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("ACCORD_DATA_DIR", str(tmp_path))
    execution_id, agent_id = _execution(db, user_id)
    with db.session() as s:
        workspace = open_workspace(s, execution_id)
    assert workspace.root == tmp_path / "workspaces" / execution_id
    author = FileAuthor(execution_id, user_id, step_id="w", attempt=2, agent_id=agent_id)
    tools = workspace_toolset(workspace, on_write=record_writes(db, author))
    await call(tools, "write_file", path="out/report.md", content="# Report\n")
    await call(tools, "edit_file", path="out/report.md", old_text="Report", new_text="Result")
    (workspace.root / "by-hand.txt").write_text("a person wrote this")

    with db.session() as s:
        rows = s.execute(select(workspace_files)).all()
        listed = {f.path: f for f in list_files(s, execution_id)}
        events = [
            e
            for e in EventRepository(s).of_execution(user_id=user_id, execution_id=execution_id)
            if e.kind == "workspace.file_written"
        ]
    assert [
        (r.path, r.size, r.step_id, r.attempt, r.agent_id)
        for r in rows
        if r.execution_id == execution_id
    ] == [("out/report.md", 9, "w", 2, agent_id)]
    assert listed["out/report.md"].agent_name == "Wren"
    assert listed["out/report.md"].step_id == "w" and listed["out/report.md"].size == 9
    assert listed["by-hand.txt"].step_id is None and listed["by-hand.txt"].agent_id is None
    assert [(e.step_id, e.data) for e in events] == [
        (
            "w",
            {"path": "out/report.md", "size": 9, "stepId": "w", "attempt": 2, "agentId": agent_id},
        ),
        (
            "w",
            {"path": "out/report.md", "size": 9, "stepId": "w", "attempt": 2, "agentId": agent_id},
        ),
    ]


async def test_a_child_works_inside_its_parents_folder_and_is_credited_there(
    db: Database, user_id: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("ACCORD_DATA_DIR", str(tmp_path))
    parent_id, agent_id = _execution(db, user_id)
    from accord.domain.enums import TriggerReason

    with db.session() as s:
        parent = ExecutionRepository(s).get(parent_id)
        child = ExecutionRepository(s).create(
            workflow_id=parent.workflow_id,
            user_id=user_id,
            trigger_reason=TriggerReason.DEPENDENCY,
            triggered_by=user_id,
            definition={},
            parent_execution_id=parent_id,
            parent_step_id="w",
            depth=1,
        )
        parent_folder = open_workspace(s, parent_id)
        child_folder = open_workspace(s, child.id)
    assert child_folder.root == parent_folder.root / "children" / child.id
    author = FileAuthor(child.id, user_id, step_id="task", attempt=1, agent_id=agent_id)
    tools = workspace_toolset(child_folder, on_write=record_writes(db, author))
    await call(tools, "write_file", path="findings.md", content="found it")
    # The child cannot reach its parent's files; the parent sees the child's.
    with pytest.raises(ModelRetry, match="outside the workspace"):
        await call(tools, "read_file", path="../../secret.md")
    with db.session() as s:
        listed = list_files(s, parent_id)
        own = list_files(s, child.id)
    assert [(f.path, f.step_id, f.agent_name) for f in listed] == [
        (f"children/{child.id}/findings.md", "task", "Wren")
    ]
    assert [f.path for f in own] == ["findings.md"]
