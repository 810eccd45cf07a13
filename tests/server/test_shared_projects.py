"""A project shared with members: a viewer watches, an editor works, a stranger sees nothing."""

import time

import httpx
from sqlalchemy import insert

from accord.storage.repositories.tokens import TokenRepository
from accord.storage.repositories.users import UserRepository
from accord.storage.tables import new_id, workflow_executions
from server.conftest import LiveServer, append_event, make_user
from server.test_events import read_frames


def test_a_viewer_watches_a_shared_execution_but_cannot_act_on_it(
    live_server: LiveServer,
) -> None:
    owner, viewer, editor, stranger = (make_user(live_server, n) for n in ("O", "V", "E", "S"))
    project = owner.api.post("/projects", json={"name": "Launch"}).json()
    agent = owner.api.post("/agents", json={"name": "Ada", "role": "developer"}).json()
    workflow = owner.api.post(
        "/workflows",
        json={
            "name": "Ship",
            "description": "",
            "projectId": project["id"],
            "participatingAgents": [agent["id"]],
            "configuration": {"steps": [{"id": "a", "name": "A"}]},
        },
    ).json()
    for user, role in ((viewer, "viewer"), (editor, "editor")):
        put = owner.api.put(f"/projects/{project['id']}/members/{user.id}", json={"role": role})
        assert put.status_code == 200 and put.json()["role"] == role
    members = owner.api.get(f"/projects/{project['id']}/members").json()
    assert members[0] == dict(members[0], userId=owner.id, role="owner")
    assert {(m["userId"], m["role"]) for m in members[1:]} == {
        (viewer.id, "viewer"),
        (editor.id, "editor"),
    }

    execution_id = new_id()
    with live_server.db.session() as s:
        s.execute(
            insert(workflow_executions).values(
                id=execution_id,
                workflow_id=workflow["id"],
                execution_number=1,
                trigger_reason="manual",
                user_id=owner.id,
                status="running",
            )
        )

    shared = viewer.api.get("/projects").json()
    assert [(p["name"], p["role"]) for p in shared] == [("Launch", "viewer")]
    assert viewer.api.get(f"/projects/{project['id']}/workflows").json()[0]["name"] == "Ship"
    assert viewer.api.get(f"/executions/{execution_id}").json()["status"] == "running"
    with viewer.api.stream(
        "GET", f"/executions/{execution_id}/events", timeout=httpx.Timeout(10, read=10)
    ) as stream:
        append_event(live_server.db, execution_id=execution_id, user_id=owner.id, kind="x.y")
        [frame] = read_frames(stream, 1)
    assert frame["event"] == "x.y"

    refused = viewer.api.post(f"/executions/{execution_id}/cancel")
    assert refused.status_code == 403
    assert "role in this project is viewer" in refused.json()["error"]["message"]
    assert viewer.api.patch(f"/workflows/{workflow['id']}", json={"name": "x"}).status_code == 403
    assert (
        viewer.api.put(f"/projects/{project['id']}/members/{stranger.id}", json={"role": "owner"})
    ).status_code == 403

    renamed = editor.api.patch(f"/workflows/{workflow['id']}", json={"name": "Ship it"})
    assert renamed.status_code == 200 and renamed.json()["name"] == "Ship it"
    assert editor.api.delete(f"/projects/{project['id']}").status_code == 403

    # A stranger cannot tell the project or its runs exist.
    assert stranger.api.get(f"/projects/{project['id']}").status_code == 404
    assert stranger.api.get(f"/executions/{execution_id}").status_code == 404
    assert stranger.api.get("/projects").json() == []

    # Removed from the project, the viewer's open stream ends and the execution is gone.
    with viewer.api.stream(
        "GET", f"/executions/{execution_id}/events", timeout=httpx.Timeout(10, read=10)
    ) as stream:
        assert stream.status_code == 200
        removed = owner.api.delete(f"/projects/{project['id']}/members/{viewer.id}")
        assert removed.status_code == 204
        start = time.monotonic()
        for _ in stream.iter_lines():
            assert time.monotonic() - start < 5, "the stream is still open"
    assert viewer.api.get(f"/executions/{execution_id}").status_code == 404


def test_the_python_client_manages_users_members_and_scoped_tokens(
    live_server: LiveServer,
) -> None:
    import accord
    from accord.library.errors import ApiError

    with live_server.db.session() as s:
        admin_id = (
            UserRepository(s)
            .create(email=f"admin-{new_id()[:6]}@example.test", display_name="Admin", is_admin=True)
            .id
        )
        _, secret = TokenRepository(s).create(user_id=admin_id, name="client")
    with accord.Client(live_server.base_url, token=secret) as admin:
        email = f"val-{new_id()[:6]}@example.test"
        val = admin.users.create(email=email, display_name="Val", password="a long password")
        assert not val.is_admin and val.has_password
        project = admin.projects.create({"name": "Shared"})
        member = admin.projects.set_member(project.id, email, "viewer")
        assert (member.user_id, member.role) == (val.id, "viewer")
        assert [m.role for m in admin.projects.members(project.id)] == ["owner", "viewer"]
        disabled = admin.users.update(val.id, disabled=True)
        assert disabled.disabled
        read_only = admin.tokens.create(name="dashboard", scope="read")
        assert read_only.scope == "read"
    with accord.Client(live_server.base_url, token=read_only.token) as dashboard:
        assert dashboard.projects.get(project.id).name == "Shared"
        try:
            dashboard.projects.create({"name": "Nope"})
        except ApiError as error:
            assert error.code == "forbidden" and "scope is read" in str(error)
        else:
            raise AssertionError("a read token created a project")
