"""The live terminal view of an execution, built from its event log.

`ExecutionView` is pure state: it folds `ExecutionEvent`s into a table of steps and a feed
of interactions, and renders them with Rich. `watch_execution` tails the event log (events
after the last ID seen, up to the settled horizon, so a late commit on Postgres is never
skipped), so it shows an execution running in this process or in any other
one that writes to the same database. On a terminal it redraws in place (Rich `Live`), with
the text each running step's agent is writing growing under the table (the `TextDelta`s of
`accord.storage.live_text`: from this process on SQLite, from any on Postgres); otherwise
(CI, a pipe) it prints each feed line once, as a log, without the text being written.
"""

import json
import time
from collections import Counter, deque
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from rich.console import Console, Group, JustifyMethod, RenderableType
from rich.live import Live
from rich.panel import Panel
from rich.table import Table
from rich.text import Text

from accord.cli.terminal import plain
from accord.domain.execution import ExecutionEvent, TextDelta
from accord.storage.db import Database
from accord.storage.live_text import live_text
from accord.storage.repositories.events import GAP_GRACE_S, EventRepository, SettledHorizon

FINISHED = ("completed", "failed", "cancelled")
FEED_LINES = 12
_STEP_STATES = frozenset(
    ("step.started", "step.completed", "step.failed", "step.retrying", "step.skipped")
    + ("step.cancelled",)
)
WRITING_CHARS = 240
"""How much of what a running step's agent is writing the view shows: its latest words."""

_STATUS_STYLE = {
    "pending": "dim",
    "running": "bold yellow",
    "retrying": "yellow",
    "completed": "green",
    "failed": "bold red",
    "skipped": "dim cyan",
    "cancelled": "magenta",
    "paused": "blue",
    "awaiting approval": "bold cyan",
}


@dataclass
class StepLine:
    step_id: str
    name: str
    status: str = "pending"
    agent_id: str | None = None
    attempt: int = 0
    started_at: float | None = None
    finished_at: float | None = None
    input_tokens: int = 0
    output_tokens: int = 0
    tool_calls: int = 0

    def elapsed(self, now: float) -> float | None:
        if self.started_at is None:
            return None
        return (self.finished_at or now) - self.started_at


@dataclass
class Writing:
    """What an agent is writing in a running step: its current model call's text so far."""

    agent_name: str
    call: tuple[int, str, int]
    """(attempt, agent ID, call number): a new call (a tool round trip, a teammate) starts
    afresh."""
    text: str = ""
    tool: str | None = None


@dataclass
class ExecutionView:
    """What a watcher knows of one execution (and its child executions) so far."""

    execution_id: str
    title: str
    steps: dict[str, StepLine]
    agent_names: Mapping[str, str] = field(default_factory=dict)
    status: str = "pending"
    error: str | None = None
    last_event_id: int = 0
    interactions: Counter[str] = field(default_factory=Counter)
    knowledge_items: int = 0
    tool_calls: int = 0
    feed: deque[str] = field(default_factory=lambda: deque(maxlen=FEED_LINES))
    pending_approvals: dict[str, Mapping[str, Any]] = field(default_factory=dict)
    """Tool calls waiting for a user's decision, by approval ID (the `approval.*` data)."""
    writing: dict[str, Writing] = field(default_factory=dict)
    """Step ID -> what its agent is writing now, while the step runs."""

    @classmethod
    def for_definition(
        cls,
        execution_id: str,
        *,
        title: str,
        definition: Mapping[str, Any],
        agent_names: Mapping[str, str],
    ) -> "ExecutionView":
        """`definition` is the execution's stored definition (`configuration.steps`)."""
        steps = (definition.get("configuration") or {}).get("steps") or []
        lines = {s["id"]: StepLine(s["id"], s.get("name") or s["id"]) for s in steps}
        return cls(execution_id, title, lines, agent_names)

    @property
    def finished(self) -> bool:
        return self.status in FINISHED

    def agent(self, agent_id: str | None) -> str:
        if agent_id is None:
            return "-"
        return self.agent_names.get(agent_id, agent_id[:8])

    def write(self, delta: TextDelta) -> None:
        """Fold a piece of what a running step's agent is writing into the view."""
        if delta.execution_id != self.execution_id:
            return
        step = self.steps.get(delta.step_id)
        if step is None:
            return
        # A delta may come before the event that starts its attempt is read: a later attempt
        # than the view knows is running; an ended attempt's late pieces are not.
        running = step.status in ("pending", "running", "awaiting approval")
        if delta.attempt < step.attempt or (delta.attempt == step.attempt and not running):
            return
        call = (delta.attempt, delta.agent_id, delta.call)
        writing = self.writing.get(delta.step_id)
        if writing is None or writing.call != call or writing.tool != delta.tool:
            writing = Writing(delta.agent_name, call, tool=delta.tool)
            self.writing[delta.step_id] = writing
        writing.text = (writing.text + delta.text)[-4 * WRITING_CHARS :]

    def apply(self, event: ExecutionEvent) -> str | None:
        """Fold one event into the view; returns the feed line it adds, if any."""
        self.last_event_id = max(self.last_event_id, event.id)
        own = event.execution_id == self.execution_id
        # A child's tool call waiting for approval waits for the same user as the parent's:
        # without it here, a delegated sub-task's call was never offered and the run hung.
        if not own and not event.kind.startswith("approval."):
            return self._note(self._child_line(event))
        data = event.data
        step = self._step(event.step_id) if own and event.step_id else None
        writing = self.writing.get(step.step_id) if step is not None else None
        if step is not None and writing is not None and event.kind in _STEP_STATES:
            # What the attempt wrote is recorded now, or over (a start clears older attempts').
            attempt = int(data.get("attempt") or 0)
            if event.kind != "step.started" or writing.call[0] < attempt:
                del self.writing[step.step_id]
        at = event.created_at.timestamp()
        match event.kind:
            case "execution.status":
                self.status = data.get("status", self.status)
                self.error = data.get("errorMessage") or self.error
                suffix = f": {self.error}" if self.error and self.status == "failed" else ""
                return self._note(f"execution {self.status}{suffix}")
            case "step.started" if step:
                step.status, step.attempt = "running", data.get("attempt", step.attempt + 1)
                step.agent_id = data.get("agentId") or step.agent_id
                step.started_at, step.finished_at = at, None
                again = f" (attempt {step.attempt})" if step.attempt > 1 else ""
                return self._note(f"{self.agent(step.agent_id)} started {step.name}{again}")
            case "step.completed" if step:
                step.status, step.finished_at = "completed", at
                step.input_tokens += int(data.get("inputTokens") or 0)
                step.output_tokens += int(data.get("outputTokens") or 0)
                return self._note(
                    f"{self.agent(step.agent_id)} completed {step.name}: "
                    f"{_short(data.get('summary', ''))}"
                )
            case "step.failed" if step:
                step.status = "retrying" if data.get("willRetry") else "failed"
                step.finished_at = at
                return self._note(f"{step.name} failed: {_short(data.get('error', ''))}")
            case "step.retrying" if step:
                step.status = "retrying"
                return self._note(f"{step.name} will be retried: {_short(data.get('reason', ''))}")
            case "step.skipped" if step:
                step.status = "skipped"
                return self._note(f"{step.name} skipped: {_short(data.get('reason', ''))}")
            case "step.cancelled" if step:
                step.status, step.finished_at = "cancelled", at
                return None  # the execution's own line says why
            case "interaction.created":
                kind = data.get("interactionType", "interaction")
                self.interactions[kind] += 1
                shared = data.get("contextData") or {}
                if shared.get("knowledgeId") or shared.get("knowledgeIds"):
                    return None  # shared knowledge: its knowledge.created lines say it once
                return self._note(self._interaction_line(data))
            case "interaction.answered":
                return self._note(
                    f"{self.agent(data.get('toAgentId'))} answered "
                    f"{self.agent(data.get('fromAgentId'))}: "
                    f"{_short(data.get('responseMessage') or '')}"
                )
            case "tool.called":
                self.tool_calls += 1
                if step:
                    step.tool_calls += 1
                return self._note(_tool_line(data))

            case "approval.requested":
                self.pending_approvals[data["approvalId"]] = data
                if step and step.status == "running":
                    step.status = "awaiting approval"
                return self._note(
                    f"{data.get('agentName') or self.agent(data.get('agentId'))} asks to call "
                    f"{call_text(data)}: waiting for approval "
                    f"(accord approvals approve {str(data['approvalId'])[:8]})"
                )
            case "approval.decided":
                self.pending_approvals.pop(data["approvalId"], None)
                still = any(
                    a.get("stepId") == event.step_id for a in self.pending_approvals.values()
                )
                if step and step.status == "awaiting approval" and not still:
                    step.status = "running"
                reason = f": {_short(data['reason'])}" if data.get("reason") else ""
                return self._note(
                    f"{data.get('decision')} {data.get('server')}.{data.get('tool')}{reason}"
                )
            case "knowledge.created":
                self.knowledge_items += 1
                return self._note(
                    f"{self.agent(data.get('createdByAgentId'))} shared knowledge: "
                    f"{_short(data.get('title', ''))}"
                )
        return None

    def render(self, now: float | None = None, *, feed: bool = True) -> RenderableType:
        """The step table, and the latest lines of the feed under it when `feed`."""
        now = time.time() if now is None else now
        table = Table(
            title=f"{plain(self.title)}  [{_style(self.status)}]{self.status}[/]",
            title_justify="left",
            expand=True,
        )
        columns: tuple[tuple[str, JustifyMethod], ...] = (
            ("step", "left"),
            ("agent", "left"),
            ("status", "left"),
            ("attempt", "right"),
            ("elapsed", "right"),
            ("tokens", "right"),
            ("tools", "right"),
        )
        for column, justify in columns:
            table.add_column(column, justify=justify)
        for step in self.steps.values():
            elapsed = step.elapsed(now)
            tokens = step.input_tokens + step.output_tokens
            table.add_row(
                Text(step.name),
                Text(self.agent(step.agent_id)),
                Text(step.status, style=_style(step.status)),
                str(step.attempt) if step.attempt else "",
                f"{elapsed:.1f}s" if elapsed is not None else "",
                f"{tokens:,}" if tokens else "",
                str(step.tool_calls) if step.tool_calls else "",
            )
        if not feed:
            return table
        lines = Text("\n".join(self.feed) or "waiting for the team...", overflow="ellipsis")
        parts: list[RenderableType] = [table]
        if self.pending_approvals:
            waiting = Text(
                "\n".join(
                    f"{str(a['approvalId'])[:8]}  {a.get('agentName') or '-'}: {call_text(a)}"
                    for a in self.pending_approvals.values()
                ),
                overflow="ellipsis",
            )
            parts.append(
                Panel(waiting, title="waiting for your approval", title_align="left", style="cyan")
            )
        if self.writing:
            parts.append(self._writing_panel())
        parts.append(Panel(lines, title="team activity", title_align="left"))
        return Group(*parts)

    def _writing_panel(self) -> Panel:
        """`Ada · Plan: …the latest words` per running step (a tool call's arguments after
        `-> tool`)."""
        shown = Text(overflow="fold")
        for step_id, writing in self.writing.items():
            if shown:
                shown.append("\n")
            step = self.steps[step_id]
            shown.append(f"{writing.agent_name} · {step.name}", style="bold")
            if writing.tool:
                shown.append(f" -> {writing.tool}", style="cyan")
            flat = " ".join(writing.text.split())
            tail = flat if len(flat) <= WRITING_CHARS else "…" + flat[-WRITING_CHARS:]
            shown.append(": " + tail)
        return Panel(shown, title="now writing", title_align="left", style="yellow")

    def _step(self, step_id: str) -> StepLine:
        if step_id not in self.steps:
            self.steps[step_id] = StepLine(step_id, step_id)
        return self.steps[step_id]

    def _note(self, line: str | None) -> str | None:
        if line:
            self.feed.append(line)
        return line

    def _interaction_line(self, data: Mapping[str, Any]) -> str:
        kind = str(data.get("interactionType", "interaction")).replace("_", " ")
        target = data.get("toAgentId")
        if target == data.get("fromAgentId"):
            target = None  # a step taken by score, with no coordinator to hand it over
        to = f" -> {self.agent(target)}" if target else (" -> you" if data.get("toUserId") else "")
        return (
            f"[{kind}] {self.agent(data.get('fromAgentId'))}{to}: {_short(data.get('message', ''))}"
        )

    def _child_line(self, event: ExecutionEvent) -> str | None:
        if event.kind == "execution.status":
            return f"child execution {event.execution_id[:8]}: {event.data.get('status')}"
        if event.kind == "step.completed":
            return f"  (child) {event.step_id} completed"
        return None


def watch_execution(
    database: Database,
    *,
    user_id: str,
    execution_id: str,
    view: ExecutionView,
    console: Console,
    is_done: Callable[[], bool] | None = None,
    poll_seconds: float = 0.1,
    on_approval: Callable[[Mapping[str, Any]], None] | None = None,
) -> ExecutionView:
    """Follow the execution's events until it ends (or `is_done()`), drawing the view.
    `on_approval` gets each tool call that starts waiting for approval (its `approval.*`
    data) once, with the live display stopped meanwhile so that it may ask the user."""
    related = {execution_id}
    offered: set[str] = set()

    def to_offer() -> list[Mapping[str, Any]]:
        if on_approval is None:
            return []
        fresh = [a for key, a in view.pending_approvals.items() if key not in offered]
        offered.update(str(a["approvalId"]) for a in fresh)
        return fresh

    settled = SettledHorizon(view.last_event_id, grace_seconds=GAP_GRACE_S)

    def drain(*, final: bool = False) -> list[str]:
        """The feed lines of the events settled since the last drain; the `final` drain, once
        the execution has ended, reads all the rest (every one of its events has committed)."""
        lines = []
        while True:
            before = settled.horizon
            with database.session() as session:
                events = EventRepository(session).settled_after(
                    settled, user_id=user_id, all_committed=final
                )
            for event in events:
                view.last_event_id = max(view.last_event_id, event.id)
                if _follow(event, related):
                    line = view.apply(event)
                    if line:
                        lines.append(line)
            if settled.horizon == before:
                return lines

    def ended() -> bool:
        return view.finished or (is_done is not None and is_done())

    if console.is_terminal:
        # What the agents are writing: kept apart from the events (it may arrive on another
        # thread at any time) and folded in before each redraw.
        written: deque[TextDelta] = deque()
        stop_listening = live_text(database).subscribe(written.append)

        def draw() -> RenderableType:
            while written:
                view.write(written.popleft())
            return view.render()

        try:
            with Live(draw(), console=console, refresh_per_second=8, transient=False) as live:
                while True:
                    drain()
                    live.update(draw())
                    if ended():
                        break
                    for approval in to_offer():
                        assert on_approval is not None
                        live.stop()
                        try:
                            on_approval(approval)
                        finally:
                            live.start()
                    time.sleep(poll_seconds)
                drain(final=True)
                live.update(draw())
        finally:
            stop_listening()
    else:
        while True:
            _print_lines(console, drain())
            if ended():
                break
            for approval in to_offer():
                assert on_approval is not None
                on_approval(approval)
            time.sleep(poll_seconds)
        _print_lines(console, drain(final=True))
        console.print(view.render(feed=False))
    return view


def latest_event_id(database: Database) -> int:
    """Where a watcher of an execution about to start begins reading (skips older history)."""
    with database.session() as session:
        return EventRepository(session).newest_id()


def _follow(event: ExecutionEvent, related: set[str]) -> bool:
    """The execution's own events, and its child executions' (they name their parent)."""
    if event.execution_id in related:
        return True
    if event.kind == "execution.created" and event.data.get("parentExecutionId") in related:
        related.add(event.execution_id)
        return True
    return False


def _print_lines(console: Console, lines: Iterable[str]) -> None:
    for line in lines:
        console.print(line, highlight=False, markup=False)


def _tool_line(data: Mapping[str, Any]) -> str:
    """`Ada -> files.read_text_file(path=/srv/a.md) 12 ms: # Title...` (or `failed: why`)."""
    shown = ", ".join(f"{k}={_argument(v)}" for k, v in (data.get("arguments") or {}).items())
    call = f"{data.get('agentName', '?')} -> {data.get('server')}.{data.get('tool')}({shown})"
    took = f" {float(data.get('durationMs') or 0):.0f} ms"
    if data.get("error"):
        return f"[tool] {call}{took} failed: {_short(data['error'])}"
    return f"[tool] {call}{took}: {_short(data.get('resultExcerpt') or '', 80)}"


def _argument(value: Any) -> str:
    """An argument as a feed shows it: a long path by its end, other long values by size."""
    text = str(value)
    if len(text) <= 60:
        return _short(text, 60)
    if text.startswith("/") and "\n" not in text:
        return "…" + text[-45:]
    return f"<{len(text):,} chars>"


def call_text(approval: Mapping[str, Any]) -> str:
    """`server.tool {arguments}` of an approval, shortened for one line."""
    arguments = json.dumps(approval.get("arguments") or {}, separators=(",", ":"))
    return f"{approval.get('server')}.{approval.get('tool')} {_short(arguments, 80)}"


def _style(status: str) -> str:
    return _STATUS_STYLE.get(status, "")


def _short(text: Any, limit: int = 100) -> str:
    flat = " ".join(str(text).split())
    return flat if len(flat) <= limit else flat[: limit - 1] + "…"
