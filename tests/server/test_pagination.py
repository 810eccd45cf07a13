"""Issue 17 item 2: list endpoints answer in pages (`limit`, `cursor`, a `Link` to the next
page), never an unbounded payload; the library client reads every page."""

import accord
from accord.storage.repositories.agents import AgentRepository
from server.conftest import ApiUser, LiveServer


def add_agents(server: LiveServer, user: ApiUser, count: int) -> None:
    with server.db.session() as s:
        for n in range(count):
            AgentRepository(s).create(user_id=user.id, name=f"Agent {n:03}", role="writer")


def test_a_list_comes_in_pages_that_link_to_the_next(live_server: LiveServer, alice: ApiUser):
    add_agents(live_server, alice, 7)
    seen: list[str] = []
    answer = alice.api.get("/agents", params={"limit": 3})
    pages = 1
    while True:
        assert answer.status_code == 200
        assert answer.headers["X-Total-Count"] == "7"
        seen += [a["name"] for a in answer.json()]
        if "next" not in answer.links:
            break
        assert answer.links["next"]["url"].startswith("/api/v1/agents?")
        answer = alice.api.get(answer.url.join(answer.links["next"]["url"]))
        pages += 1
    assert pages == 3 and len(seen) == 7 and len(set(seen)) == 7
    assert "X-Next-Cursor" not in answer.headers

    too_many = alice.api.get("/agents", params={"limit": 501})
    assert too_many.status_code == 422
    assert too_many.json()["error"]["details"]["problems"][0]["field"] == "limit"
    forged = alice.api.get("/agents", params={"cursor": "not-ours"})
    assert forged.status_code == 422
    problem = forged.json()["error"]["details"]["problems"][0]
    assert problem["field"] == "cursor" and "previous page" in problem["fix"]


def test_the_default_page_is_bounded_and_the_client_reads_them_all(
    live_server: LiveServer, alice: ApiUser
):
    add_agents(live_server, alice, 130)
    first = alice.api.get("/agents")
    assert len(first.json()) == 100 and "next" in first.links
    with accord.Client(live_server.base_url, token=alice.token) as client:
        names = [a.name for a in client.agents.list()]
    assert len(names) == 130 and len(set(names)) == 130
