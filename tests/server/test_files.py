"""An execution's workspace files over real HTTP: listed with their authors, downloaded one
by one and as a zip; another user's execution is a 404 and a path out of the folder a 400."""

import io
import zipfile
from pathlib import Path

import pytest

from accord.storage.repositories.workspace_files import WorkspaceFileRepository
from accord.tools.workspace_folder import locate_workspace
from server.conftest import ApiUser, LiveServer, insert_execution


@pytest.fixture
def data_dir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("ACCORD_DATA_DIR", str(tmp_path / "data"))
    return tmp_path / "data"


def _workspace_with_files(server: LiveServer, user: ApiUser) -> tuple[str, Path]:
    execution_id = insert_execution(server.db, user.id)
    with server.db.session() as s:
        root = locate_workspace(s, execution_id).ensure().root
        WorkspaceFileRepository(s).record_write(
            execution_id=execution_id,
            path="report.md",
            size=9,
            step_id="write",
            attempt=1,
            agent_id=None,
        )
    (root / "report.md").write_text("# Report\n")
    (root / "src").mkdir()
    (root / "src" / "main.py").write_text("print('hi')\n")
    return execution_id, root


def test_files_are_listed_with_their_authors_and_downloaded(
    any_live_server: LiveServer, data_dir: Path
) -> None:
    from server.conftest import make_user

    alice = make_user(any_live_server, "Alice")
    execution_id, root = _workspace_with_files(any_live_server, alice)
    assert root == data_dir / "workspaces" / execution_id

    listed = alice.api.get(f"/executions/{execution_id}/files")
    assert listed.status_code == 200, listed.text
    files = listed.json()
    assert [(f["path"], f["size"], f["stepId"], f["attempt"]) for f in files] == [
        ("report.md", 9, "write", 1),
        ("src/main.py", 12, None, None),  # written outside the toolkit: author unknown
    ]
    assert all(f["modifiedAt"] for f in files)

    one = alice.api.get(f"/executions/{execution_id}/files/src/main.py")
    assert one.status_code == 200
    assert one.content == b"print('hi')\n"
    assert one.headers["content-type"].startswith("text/x-python")
    assert 'filename="main.py"' in one.headers["content-disposition"]

    archive = alice.api.get(f"/executions/{execution_id}/files.zip")
    assert archive.status_code == 200 and archive.headers["content-type"] == "application/zip"
    with zipfile.ZipFile(io.BytesIO(archive.content)) as z:
        assert sorted(z.namelist()) == ["report.md", "src/main.py"]
        assert z.read("report.md") == b"# Report\n"


def test_another_users_execution_and_paths_out_of_the_folder_are_refused(
    live_server: LiveServer, alice: ApiUser, bob: ApiUser, data_dir: Path, tmp_path: Path
) -> None:
    execution_id, root = _workspace_with_files(live_server, alice)
    secret = tmp_path / "secret.txt"
    secret.write_text("not yours")
    (root / "escape").symlink_to(secret)

    for path in ("files", "files.zip", "files/report.md"):
        response = bob.api.get(f"/executions/{execution_id}/{path}")
        assert response.status_code == 404, path
        assert response.json()["error"]["code"] == "not_found"

    escaped = alice.api.get(f"/executions/{execution_id}/files/escape")
    assert escaped.status_code == 400
    assert escaped.json()["error"]["code"] == "path_refused"
    assert "outside the workspace" in escaped.json()["error"]["message"]
    dotted = alice.api.get(f"/executions/{execution_id}/files/src/%2E%2E/%2E%2E/x")
    assert dotted.status_code == 400 and "outside the workspace" in dotted.text
    missing = alice.api.get(f"/executions/{execution_id}/files/nope.md")
    assert missing.status_code == 404
    assert "escape" not in [
        f["path"] for f in alice.api.get(f"/executions/{execution_id}/files").json()
    ]


def test_an_execution_without_files_lists_none_and_zips_empty(
    live_server: LiveServer, alice: ApiUser, data_dir: Path
) -> None:
    execution_id = insert_execution(live_server.db, alice.id)
    assert alice.api.get(f"/executions/{execution_id}/files").json() == []
    archive = alice.api.get(f"/executions/{execution_id}/files.zip")
    with zipfile.ZipFile(io.BytesIO(archive.content)) as z:
        assert z.namelist() == []
