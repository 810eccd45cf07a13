"""What an agent writes reaches the live channel as it writes it, tagged with its attempt;
the recorded result is the same as without streaming, and a replay streams nothing."""

import asyncio
from collections import defaultdict
from dataclasses import replace

from accord.domain.agent import Agent
from accord.domain.execution import TextDelta
from accord.llm.offline import OfflineModel
from accord.storage.live_text import live_text
from accord.team.attempt import AgentModel
from accord.team.runtime import AgentTeam

from .helpers import Durable

STEP = {
    "id": "notes",
    "name": "Write the release notes",
    "instructions": "List what changed in version 2.4 for the support team.",
    "reviewRequired": True,
    "reviewerRole": "reviewer",
}


def offline_team(crew, *, stream_text: bool = True) -> AgentTeam:
    model = OfflineModel(latency_seconds=0.3, question_rate=0.0, feedback_rate=0.0)

    def model_for(_agent: Agent) -> AgentModel:
        return AgentModel(model)

    return AgentTeam(crew.db, models=model_for, workspaces=crew.workspaces, stream_text=stream_text)


async def settled(seen: list[TextDelta]) -> None:
    """Wait until no delta has arrived for a moment (on Postgres they come a few ms late)."""
    count = -1
    for _ in range(50):
        if len(seen) == count:
            return
        count = len(seen)
        await asyncio.sleep(0.2)


async def test_an_agent_s_text_streams_while_it_writes_and_a_replay_streams_nothing(make_crew):
    crew = make_crew(steps=[STEP])
    seen: list[TextDelta] = []
    unsubscribe = live_text(crew.db).subscribe(seen.append)
    try:
        ctx = crew.ctx("notes", agent="Ada")
        streamed = await offline_team(crew).perform(ctx)

        await settled(seen)
        assert streamed.status in ("completed", "rework")  # the review may send it back
        mine = [d for d in seen if d.execution_id == crew.execution_id]
        assert mine, "nothing was streamed"
        # Grace reviewed Ada's work: what she wrote streamed too, under her name.
        assert {(d.user_id, d.step_id, d.attempt, d.agent_id, d.agent_name) for d in mine} == {
            (crew.user_id, "notes", 1, crew.id(name), name) for name in ("Ada", "Grace")
        }
        calls: dict[int, list[TextDelta]] = defaultdict(list)
        for delta in mine:
            if delta.agent_name == "Ada":
                calls[delta.call].append(delta)
        for pieces in calls.values():  # each call's pieces continue each other
            assert [d.offset for d in pieces] == [
                sum(len(d.text) for d in pieces[:i]) for i in range(len(pieces))
            ]
        # Ada looked the team's knowledge up before answering: that call's arguments streamed
        # as a tool call; her answer streamed as text, in several pieces, and reads as the
        # recorded result's fields, not as JSON.
        assert any(d.part == "tool_call" and d.tool == "search_knowledge" for d in mine)
        last = calls[max(calls)]
        assert len(last) > 1 and {d.part for d in last} == {"text"}
        written = "".join(d.text for d in last)
        assert streamed.result is not None
        assert written.startswith(streamed.result["summary"] + "\n\n")
        assert streamed.result["output"].startswith(written.split("\n\n", 1)[1][:200])
        assert "{" not in written[:5]

        # After a crash the engine replays the recorded calls: nothing is streamed again.
        seen.clear()
        replay = Durable(replaying=crew.durable.records)
        again = await offline_team(crew).perform(replace(ctx, durable=replay))
        assert again.result == streamed.result and not replay.replaying
        await settled(seen)
        assert seen == []
    finally:
        unsubscribe()
