"""Function tools (`@accord.tool`) in a step: offered to the model under their own name,
called through the same durable wrapper as MCP tools (recorded, reported, counted, never
made again on replay), their errors read by the model, approvals asked first; a step whose
function this process has not imported fails at once, saying which."""

from dataclasses import replace
from pathlib import Path

from accord.domain.approval import ToolApproval
from accord.domain.enums import ApprovalStatus
from accord.domain.ports import ApprovalRequest
from accord.library.function_tools import tool
from accord.llm.offline import OfflineModel
from accord.storage.repositories.events import EventRepository
from accord.team.attempt import AgentModel
from accord.team.runtime import AgentTeam

from .helpers import Durable, answer, call

STEPS = [{"id": "quote", "name": "Quote the order", "instructions": "Price the order."}]
made: list[tuple[str, int]] = []


@tool
def lookup_price(sku: str, quantity: int = 1) -> str:
    """The price of an order line.

    Args:
        sku: The item's stock-keeping unit.
        quantity: How many items.
    """
    made.append((sku, quantity))
    if sku == "gone":
        raise LookupError(f"no item {sku!r}")
    return f"{quantity} x {sku}: {2.5 * quantity:.2f} EUR"


PRICE = {"lookup_price": {"function": lookup_price.reference}}


def tool_events(crew):
    with crew.db.session() as s:
        events = EventRepository(s).of_execution(
            user_id=crew.user_id, execution_id=crew.execution_id
        )
    return [e.data for e in events if e.kind == "tool.called"]


async def test_a_function_tool_is_called_once_reported_and_replayed_without_running(make_crew):
    made.clear()
    crew = make_crew(steps=STEPS, function_tools=PRICE, tools={"Ada": ["lookup_price"]})
    ada = crew.script(
        "Ada",
        call("lookup_price", sku="apple", quantity="3"),
        call("lookup_price", sku="gone"),
        answer(),
    )

    outcome = await crew.team().perform(crew.ctx("quote", agent="Ada"))

    assert outcome.status == "completed", outcome.error
    assert "lookup_price" in ada.offered[0]  # its own name, no server prefix
    assert made == [("apple", 3), ("gone", 1)]  # "3" was validated into an int
    assert "3 x apple: 7.50 EUR" in ada.prompt_text(1)
    assert "LookupError: no item 'gone'" in ada.prompt_text(2)  # the model reads the error
    first, failed = tool_events(crew)
    assert first | {"durationMs": 0} == {
        "stepId": "quote",
        "attempt": 1,
        "agentId": crew.id("Ada"),
        "agentName": "Ada",
        "server": "function",
        "tool": "lookup_price",
        "arguments": {"sku": "apple", "quantity": 3},
        "resultExcerpt": "3 x apple: 7.50 EUR",
        "durationMs": 0,
        "error": None,
    }
    assert failed["error"] == "LookupError: no item 'gone'"
    assert outcome.usage.tool_calls == 2
    assert "tool:function.lookup_price" in crew.durable.names

    # Replayed after a crash: the recorded results come back, the function does not run.
    crew.durable = Durable(replaying=crew.durable.records)
    crew.script(
        "Ada",
        call("lookup_price", sku="apple", quantity="3"),
        call("lookup_price", sku="gone"),
        answer(),
    )
    replayed = await crew.team().perform(crew.ctx("quote", agent="Ada", attempt=2))
    assert replayed.status == "completed", replayed.error
    assert made == [("apple", 3), ("gone", 1)]


class Decide:
    """A user who answers every approval the same way, remembering what was asked."""

    def __init__(self, approved: bool, reason: str | None = None) -> None:
        self.approved, self.reason = approved, reason
        self.asked: list[ApprovalRequest] = []

    async def wait_for_approval(self, request: ApprovalRequest) -> ToolApproval:
        self.asked.append(request)
        status = ApprovalStatus.APPROVED if self.approved else ApprovalStatus.REJECTED
        return ToolApproval.model_construct(status=status, reason=self.reason)


async def test_a_function_tool_marked_require_approval_waits_for_the_decision(make_crew):
    made.clear()
    crew = make_crew(
        steps=STEPS,
        function_tools={"lookup_price": PRICE["lookup_price"] | {"requireApproval": True}},
        tools={"Ada": ["lookup_price"]},
    )
    ada = crew.script("Ada", call("lookup_price", sku="pear"), answer())
    user = Decide(approved=False, reason="prices are confidential")

    ctx = replace(crew.ctx("quote", agent="Ada"), approvals=user)
    outcome = await crew.team().perform(ctx)

    assert outcome.status == "completed", outcome.error
    assert made == []
    [asked] = user.asked
    assert (asked.server, asked.tool, dict(asked.arguments)) == (
        "function",
        "lookup_price",
        {"sku": "pear", "quantity": 1},
    )
    assert "the user rejected this call: prices are confidential" in ada.prompt_text(1)


async def test_a_toolkit_marked_require_approval_asks_before_writing(make_crew, tmp_path: Path):
    crew = make_crew(
        steps=STEPS,
        toolkits={"workspace": {"requireApproval": ["write_file"]}},
        tools={"Ada": ["workspace"]},
    )
    ada = crew.script(
        "Ada",
        call("workspace_list_files"),
        call("workspace_write_file", path="quote.md", content="7.50 EUR"),
        answer(),
    )
    user = Decide(approved=False, reason="not yet")

    outcome = await crew.team().perform(replace(crew.ctx("quote", agent="Ada"), approvals=user))

    assert outcome.status == "completed", outcome.error
    assert [(a.server, a.tool) for a in user.asked] == [("workspace", "write_file")]
    assert "the user rejected this call: not yet" in ada.prompt_text(2)
    assert not list(crew.workspaces.rglob("quote.md"))


async def test_a_function_this_process_lacks_fails_the_step_for_good_saying_which(make_crew):
    crew = make_crew(
        steps=STEPS,
        function_tools={"lookup_stock": {"function": "warehouse.tools:lookup_stock"}},
        tools={"Ada": ["lookup_stock"]},
    )
    crew.script("Ada", answer())

    outcome = await crew.team().perform(crew.ctx("quote", agent="Ada"))

    assert outcome.status == "failed" and not outcome.retryable
    assert outcome.error is not None
    assert "Ada: the function tool 'lookup_stock' (warehouse.tools:lookup_stock)" in outcome.error
    assert "imports warehouse.tools" in outcome.error


async def test_the_offline_model_calls_a_fitting_function_tool_once_with_the_inputs(make_crew):
    made.clear()
    crew = make_crew(
        steps=[{"id": "quote", "name": "Lookup price", "instructions": "Price the order."}],
        function_tools=PRICE,
        tools={"Ada": ["lookup_price"]},
    )
    team = AgentTeam(
        crew.db,
        models=lambda _agent: AgentModel(OfflineModel(seed=3)),
        workspaces=crew.workspaces,
    )

    ctx = crew.ctx("quote", agent="Ada", inputs={"sku": "plum", "quantity": 4})
    outcome = await team.perform(ctx)

    assert outcome.status == "completed", outcome.error
    assert made == [("plum", 4)]  # once, with the inputs its parameters are named after
    assert "`lookup_price`: 4 x plum: 10.00 EUR" in outcome.result["output"]
