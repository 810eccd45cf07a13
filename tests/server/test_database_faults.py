"""Issue 17 item 1: an API request that meets a database fault gets a sentence and a status
(503 while the database is away, 507 when its disk is full), never SQL or a traceback."""

import sqlalchemy as sa
from fastapi.testclient import TestClient

from accord.server.app import create_app
from accord.server.settings import ServerSettings
from accord.storage.repositories.tokens import TokenRepository
from accord.storage.repositories.users import UserRepository


def test_a_full_database_answers_507_without_sql(tmp_path, monkeypatch) -> None:
    monkeypatch.setenv("ACCORD_DATA_DIR", str(tmp_path))
    url = f"sqlite:///{tmp_path / 'accord.db'}"
    app = create_app(ServerSettings(database_url=url, run_engine=False))
    with TestClient(app) as client:
        with app.state.db.session() as s:
            user = UserRepository(s).create(email="full@example.test", display_name="F")
            _, secret = TokenRepository(s).create(user_id=user.id, name="tests")
        client.headers["Authorization"] = f"Bearer {secret}"
        pages = app.state.db.engine  # the server's own engine: cap its file now
        with pages.connect() as conn:
            count = conn.exec_driver_sql("PRAGMA page_count").scalar()
        sa.event.listen(
            pages, "connect", lambda c, _: c.execute(f"PRAGMA max_page_count = {count}")
        )
        pages.dispose()  # new connections, each capped
        answer = client.post(
            "/api/v1/agents",
            json={"name": "Big", "role": "writer", "backstory": "x" * 9000},
        )
    assert answer.status_code == 507, answer.text
    body = answer.json()["error"]
    assert body["code"] == "storage_full"
    assert str(tmp_path / "accord.db") in body["message"]
    assert "INSERT" not in answer.text and "sqlite3" not in answer.text
