"""Workspaces from the command line: `accord run --workspace`, `accord executions files` and
`download`, and `accord mcp-servers`."""

import os
import subprocess
import zipfile
from pathlib import Path

from accord.storage.db import Database
from accord.storage.repositories.workspace_files import WorkspaceFileRepository
from tests.cli.conftest import ACCORD, Accord, accord_env, json_of

TEAM = """
name: Files team
agents:
  - name: Wren
    role: writer
steps:
  - id: write
    name: Write it
"""


def test_a_run_works_in_the_folder_named_and_its_files_are_listed_and_downloaded(
    accord: Accord, tmp_path: Path, data_dir: Path
) -> None:
    (tmp_path / "team.yaml").write_text(TEAM)
    folder = tmp_path / "out"
    run = json_of(accord("run", "team.yaml", "--workspace", "out", "--json"))
    assert run["status"] == "completed"
    assert run["workspace"] == {"path": str(folder), "files": 0}
    assert oct(folder.stat().st_mode & 0o777) == "0o700"
    execution_id = run["executionId"]

    # Files the team wrote through the toolkit (recorded) and by any other means (not).
    (folder / "docs").mkdir()
    (folder / "docs" / "report.md").write_text("# Report\n")
    (folder / "notes.txt").write_text("by an MCP server")
    database = Database(f"sqlite:///{data_dir / 'accord.db'}")
    with database.session() as s:
        WorkspaceFileRepository(s).record_write(
            execution_id=execution_id,
            path="docs/report.md",
            size=9,
            step_id="write",
            attempt=1,
            agent_id=run["steps"]["write"]["agentId"],
        )
    database.dispose()

    table = accord("executions", "files", execution_id[:8]).stdout
    assert "docs/report.md" in table and "write (attempt 1)" in table and "Wren" in table
    notes = next(line for line in table.splitlines() if "notes.txt" in line)
    assert "unknown" in notes
    listed = json_of(accord("executions", "files", execution_id, "--json"))
    assert [(f["path"], f["agentName"]) for f in listed] == [
        ("docs/report.md", "Wren"),
        ("notes.txt", None),
    ]

    saved = tmp_path / "saved"
    saved.mkdir()
    accord("executions", "download", execution_id, "docs/report.md", "--output", "saved")
    assert (saved / "report.md").read_text() == "# Report\n"
    accord("executions", "download", execution_id, "--output", "saved/all.zip")
    with zipfile.ZipFile(saved / "all.zip") as z:
        assert sorted(z.namelist()) == ["docs/report.md", "notes.txt"]

    escaped = accord("executions", "download", execution_id, "../team.yaml", ok=False)
    assert escaped.returncode == 1
    assert "leads outside the workspace" in escaped.stderr and "Traceback" not in escaped.stderr


def test_saved_mcp_servers_keep_their_secrets(accord: Accord, data_dir: Path) -> None:
    env = accord_env(data_dir) | {"GH_AUTH": "Bearer ghp-very-secret"}
    created = subprocess.run(
        [
            ACCORD,
            "mcp-servers",
            "create",
            "github",
            "--url",
            "https://mcp.example.test/mcp",
            "--header",
            "Authorization=GH_AUTH",
            "--require-approval",
            "--json",
        ],
        capture_output=True,
        text=True,
        env=env,
        cwd=os.getcwd(),
    )
    assert created.returncode == 0, created.stderr
    assert "ghp-very-secret" not in created.stdout
    accord(
        "mcp-servers",
        "create",
        "files",
        "--command",
        "npx",
        "--arg",
        "-y",
        "--arg",
        "@modelcontextprotocol/server-filesystem",
        "--arg",
        "${WORKSPACE}",
    )
    table = accord("mcp-servers", "list").stdout
    assert "github" in table and "Authorization" in table and "required" in table
    assert "npx -y @modelcontextprotocol/server-filesystem ${WORKSPACE}" in table
    shown = accord("mcp-servers", "show", "GitHub").stdout
    assert "https://mcp.example.test/mcp" in shown and "ghp-very-secret" not in shown
    assert (data_dir / "accord.db").read_bytes().find(b"ghp-very-secret") == -1

    unset = accord(
        "mcp-servers", "create", "x", "--url", "http://x.test", "--header", "A=NOPE", ok=False
    )
    assert unset.returncode == 1 and "NOPE is not set" in unset.stderr
    assert "Deleted MCP server github" in accord("mcp-servers", "delete", "github").stdout
