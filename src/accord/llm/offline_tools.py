"""How the offline model uses an agent's own tools (MCP servers, built-in toolkits).

The prompt's "Your tools" section names the tools the agent may use beyond the collaboration
tools, and the workspace folder. From the task and what earlier calls returned, the offline
model decides its next call, one per turn, deterministically:
1. list each folder the task names (absolute paths; the workspace toolkit's own folder when
   the task names none);
2. read the files the task names and those the listings showed (text files, a few);
3. call once each other tool whose name fits the step (shares a word with the step's name or
   instructions; never one that deletes or moves), with the inputs its parameters are named
   after;
4. write its report into the workspace folder, when it has a write tool.
Then it answers, and its deliverable says what the tools showed. Everything it writes is
labelled as the offline model's.
"""

import json
import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from pydantic_ai.messages import ModelMessage, RetryPromptPart, ToolCallPart, ToolReturnPart
from pydantic_ai.tools import ToolDefinition

from accord.domain.tools import WORKSPACE_TOOLKIT
from accord.llm.offline_answers import OFFLINE_TAG
from accord.llm.offline_brief import Brief

MAX_LISTS = 3
MAX_READS = 4
MAX_CALLS = 12
_TEXT_FILE = re.compile(
    r"\.(md|txt|rst|py|js|ts|json|ya?ml|toml|cfg|ini|csv|log|html|css|sh|sql|go|rs|java|c|h)$",
    re.IGNORECASE,
)
_ABSOLUTE_PATH = re.compile(r"(?<![\w.:/~-])(/(?:[\w.@+-]+/)*[\w.@+-]+)/?")
_RELATIVE_FILE = re.compile(r"(?<![\w/.-])([\w-]+(?:/[\w.-]+)*\.[A-Za-z]{1,5})\b")
_DESTRUCTIVE = {"delete", "remove", "move", "rename", "kill", "drop", "truncate", "destroy"}
_GENERIC_WORDS = {"file", "text", "read", "write", "list", "tool", "with", "directory"}
"""Words of tool names that say nothing about what a step is for (compared singular)."""
_TEXT_ARGUMENTS = ("content", "text", "body", "markdown", "notes", "report")
"""Arguments of a fitting tool that take the agent's report (e.g. a `publish(text)` tool)."""
_MARKER = re.compile(r"\b(?:TODO|FIXME)\b")
_WORKSPACE_LINE = re.compile(r"^Workspace folder[^:]*:\s*(\S.*)$", re.MULTILINE)

Completer = Callable[[dict[str, Any], dict[str, Any]], Any]
"""Makes planned arguments valid for a tool's JSON schema (the offline writer's `complete`)."""


@dataclass(frozen=True)
class MadeCall:
    tool: str
    args: dict[str, Any]
    result: str
    ok: bool


def next_tool_call(
    brief: Brief,
    offered: list[ToolDefinition],
    messages: list[ModelMessage],
    complete: Completer,
) -> ToolCallPart | None:
    """The agent's next own-tool call, or None when it is done with its tools."""
    own = _own_tools(brief, offered)
    if not own:
        return None
    made = _calls_made(messages, set(own))
    if len(made) >= MAX_CALLS:
        return None
    done = {(c.tool, _key(c.args)) for c in made}
    for tool, args in _plan(brief, own, made):
        completed = complete(args, tool.parameters_json_schema)
        if (tool.name, _key(completed)) not in done:  # as made, generated arguments too
            return ToolCallPart(tool.name, completed)
    return None


def tool_findings(messages: list[ModelMessage], own: set[str]) -> list[str]:
    """What the agent's own tool calls (`own`) showed, one line each, for its deliverable."""
    return _findings(_calls_made(messages, own))


def _findings(made: list[MadeCall]) -> list[str]:
    lines = []
    for call in made:
        target = _target(call.args)
        where = f" `{target}`" if target else ""
        if not call.ok:
            lines.append(f"`{call.tool}`{where} failed: {_clip(call.result, 160)}")
        elif _role(call.tool) == "list":
            entries = _listed(call.result, dirs=True)
            lines.append(
                f"Listed{where}: {len(entries)} entries"
                + (f" ({', '.join(entries[:8])}{', ...' if len(entries) > 8 else ''})")
            )
        elif _role(call.tool) == "read":
            markers = len(_MARKER.findall(call.result))
            lines.append(
                f"Read{where}: {_describe_text(call.result)}"
                + (f"; {markers} TODO/FIXME marker(s)" if markers else "")
            )
        elif _role(call.tool) == "write":
            lines.append(f"Wrote{where}: {_clip(call.result, 120)}")
        else:
            lines.append(f"`{call.tool}`: {_summarise(call.result)}")
    return lines


def own_tool_names(brief: Brief) -> set[str]:
    """The tools the prompt's "Your tools" section lists."""
    section = brief.section("your tools")
    match = re.search(r"use these tools:\s*(.+?)\.?$", section, re.MULTILINE)
    return {name.strip() for name in match.group(1).split(",")} if match else set()


# -- planning --------------------------------------------------------------------------------


def _own_tools(brief: Brief, offered: list[ToolDefinition]) -> dict[str, ToolDefinition]:
    names = own_tool_names(brief)
    return {t.name: t for t in offered if t.name in names}


def _plan(
    brief: Brief, own: dict[str, ToolDefinition], made: list[MadeCall]
) -> list[tuple[ToolDefinition, dict[str, Any]]]:
    plan: list[tuple[ToolDefinition, dict[str, Any]]] = []
    task = "\n".join(
        brief.section(name) for name in ("step", "description", "instructions", "inputs")
    )
    workspace = _workspace(brief)
    lister = _pick(own, "list")
    reader = _pick(own, "read")
    writer = _pick(own, "write")

    folders, files = _paths_in(task, workspace)
    roots = own.get(next((n for n in own if n.endswith("list_allowed_directories")), ""))
    if roots is not None and not folders:
        plan.append((roots, {}))  # the task names no folder: ask the server which it serves
        for call in made:
            if call.tool == roots.name and call.ok:
                folders = [
                    p for p in _ABSOLUTE_PATH.findall(call.result) if p != workspace.rstrip("/")
                ]
    if lister is not None:
        targets = ["."] if _local(lister) and not folders else folders
        if not _local(lister):
            targets = [f for f in targets if f.startswith("/")]
        for folder in targets[:MAX_LISTS]:
            plan.append((lister, _path_args(lister, folder)))
    if reader is not None:
        wanted = [f for f in files if _local(reader) != f.startswith("/")]
        for call in made:
            if _role(call.tool) == "list" and call.ok:
                base = _target(call.args) or ""
                wanted += [
                    _join(base, name)
                    for name in _listed(call.result, dirs=False)
                    if _TEXT_FILE.search(name)
                ]
        for path in list(dict.fromkeys(wanted))[:MAX_READS]:
            plan.append((reader, _path_args(reader, path)))
    step_words = _words(f"{brief.step_name} {brief.section('instructions')}")
    for tool in own.values():
        if tool in (lister, reader, writer) or _role(tool.name) is not None:
            continue
        words = _words(tool.name.replace("_", " ")) - _GENERIC_WORDS
        if words & step_words and not words & _DESTRUCTIVE:
            props = tool.parameters_json_schema.get("properties", {})
            text = [p for p in props if p in _TEXT_ARGUMENTS]
            args = _input_args(brief, props)
            plan.append((tool, args | ({text[0]: _report(brief, made)} if text else {})))
    if writer is not None and (workspace or _local(writer)):
        name = _slug(brief.step_name) + ".md"
        path = name if _local(writer) else f"{workspace.rstrip('/')}/{name}"
        plan.append((writer, {**_path_args(writer, path), "content": _report(brief, made)}))
    return plan


def _input_args(brief: Brief, props: dict[str, Any]) -> dict[str, Any]:
    """The execution's inputs that a tool's parameters are named after (`product: widget`
    for a `product` parameter), as its arguments."""
    try:
        inputs = json.loads(brief.section("inputs"))
    except ValueError:
        return {}
    if not isinstance(inputs, dict):
        return {}
    given = {str(key).lower(): value for key, value in inputs.items()}
    return {p: given[p.lower()] for p in props if p.lower() in given}


def _report(brief: Brief, made: list[MadeCall]) -> str:
    lines = [
        f"# {brief.step_name}",
        "",
        f"_{OFFLINE_TAG} Written by the built-in offline model (accord-offline); no real "
        "language model was called._",
    ]
    if findings := _findings(made):
        lines += ["", "## What the tools showed", *[f"- {line}" for line in findings]]
    earlier = _earlier_findings(brief)
    if earlier:
        lines += ["", "## What teammates' tools showed", *[f"- {line}" for line in earlier]]
    markers = [
        f"`{_target(c.args)}`: {n} TODO/FIXME marker(s)"
        for c in made
        if c.ok and _role(c.tool) == "read" and (n := len(_MARKER.findall(c.result)))
    ]
    markers += [line for line in earlier if "TODO/FIXME" in line]
    lines += ["", "## Open markers", *[f"- {m}" for m in markers]] if markers else []
    if summaries := brief.dependency_summaries:
        lines += ["", "## Earlier steps", *[f"- `{n}`: {_clip(s, 200)}" for n, s in summaries]]
    return "\n".join(lines) + "\n"


_HEADING = re.compile(r"^#{1,6}\s+(.*?)\s*$")
_ITEM = re.compile(r"^\s*[-*]\s+(.*)$")


def _earlier_findings(brief: Brief) -> list[str]:
    """What teammates' tools showed, from the earlier results the prompt quotes (their
    headings sit a few levels deeper there, inside each result's own section)."""
    found: list[str] = []
    for dependency in brief.dependencies:
        under = False
        for line in dependency.body.splitlines():
            if heading := _HEADING.match(line):
                under = heading.group(1).lower().startswith("what the tools showed")
            elif under and (item := _ITEM.match(line)):
                found.append(item.group(1).strip())
    return found


def _local(tool: ToolDefinition) -> bool:
    """A tool of the workspace toolkit, whose paths are relative to the workspace."""
    return tool.name.startswith(f"{WORKSPACE_TOOLKIT}_")


def _pick(own: dict[str, ToolDefinition], role: str) -> ToolDefinition | None:
    matching = sorted((t for t in own.values() if _role(t.name) == role), key=lambda t: t.name)
    return matching[0] if matching else None


def _role(name: str) -> str | None:
    lowered = name.lower()
    if lowered.endswith(("list_directory", "list_files", "list_dir")):
        return "list"
    if lowered.endswith(("read_text_file", "read_file")):
        return "read"
    if lowered.endswith("write_file"):
        return "write"
    return None


def _path_args(tool: ToolDefinition, path: str) -> dict[str, Any]:
    props = tool.parameters_json_schema.get("properties", {})
    for key in ("path", "folder", "directory", "dir", "file", "filename"):
        if key in props:
            return {key: path}
    strings = [k for k, v in props.items() if isinstance(v, dict) and v.get("type") == "string"]
    return {strings[0]: path} if strings else {}


def _paths_in(task: str, workspace: str) -> tuple[list[str], list[str]]:
    """(folders, files) the task names: absolute paths, and relative file names."""
    folders: list[str] = []
    files: list[str] = []
    for path in _ABSOLUTE_PATH.findall(task):
        if workspace and path.rstrip("/") == workspace.rstrip("/"):
            continue
        (files if _TEXT_FILE.search(path) else folders).append(path)
    files += [f for f in _RELATIVE_FILE.findall(task) if _TEXT_FILE.search(f)]
    return list(dict.fromkeys(folders)), list(dict.fromkeys(files))


def _workspace(brief: Brief) -> str:
    match = _WORKSPACE_LINE.search(brief.section("your tools"))
    return match.group(1).strip() if match else ""


# -- reading what calls returned ---------------------------------------------------------------


def _calls_made(messages: list[ModelMessage], own: set[str] | None) -> list[MadeCall]:
    calls: dict[str, ToolCallPart] = {}
    made: list[MadeCall] = []
    for message in messages:
        for part in message.parts:
            if isinstance(part, ToolCallPart) and (own is None or part.tool_name in own):
                calls[part.tool_call_id] = part
            elif isinstance(part, ToolReturnPart | RetryPromptPart) and (
                call := calls.pop(part.tool_call_id, None)
            ):
                ok = isinstance(part, ToolReturnPart) and part.outcome == "success"
                made.append(MadeCall(call.tool_name, call.args_as_dict(), _text(part.content), ok))
    return made


def _text(content: Any) -> str:
    """A tool's answer as text: MCP servers often wrap it as `{"content": "..."}`."""
    if isinstance(content, dict) and len(content) == 1:
        (only,) = content.values()
        if isinstance(only, str):
            return only
    return content if isinstance(content, str) else json.dumps(content, default=str)


def _listed(result: str, *, dirs: bool) -> list[str]:
    """The entries of a listing: the filesystem server's `[FILE] name` / `[DIR] name` lines,
    or the workspace toolkit's `path (N bytes)` lines (files only)."""
    entries = []
    for line in result.splitlines():
        line = line.strip()
        if m := re.match(r"^\[(FILE|DIR)\]\s+(.+)$", line):
            if dirs or m.group(1) == "FILE":
                entries.append(m.group(2))
        elif m := re.match(r"^(\S.*?) \([\d,]+ bytes\)$", line):
            entries.append(m.group(1))
    return entries


def _join(base: str, name: str) -> str:
    if not base or base == "." or name.startswith("/"):
        return name
    return f"{base.rstrip('/')}/{name}"


def _target(args: dict[str, Any]) -> str | None:
    for key in ("path", "folder", "directory", "dir", "file", "filename"):
        if isinstance(args.get(key), str):
            return str(args[key])
    return None


def _summarise(result: str) -> str:
    """A list of records by their titles (or names), anything else clipped."""
    try:
        data = json.loads(result)
    except ValueError:
        return _clip(result, 160)
    if isinstance(data, list) and data and all(isinstance(d, dict) for d in data):
        key = next((k for k in ("title", "name", "summary") if k in data[0]), None)
        if key is not None:
            titles = "; ".join(str(d.get(key)) for d in data[:8])
            return f"{len(data)} items: {_clip(titles, 400)}"
    return _clip(result, 160)


def _describe_text(text: str) -> str:
    lines = text.splitlines()
    first = next((line.strip() for line in lines if line.strip()), "")
    return f"{len(lines)} lines, {len(text):,} characters; it starts: {_clip(first, 100)!r}"


def _key(args: dict[str, Any]) -> str:
    """What makes two calls the same call: the arguments but the text written."""
    return json.dumps({k: v for k, v in args.items() if k not in _TEXT_ARGUMENTS}, sort_keys=True)


def _words(text: str) -> set[str]:
    return {w.rstrip("s") for w in re.findall(r"[a-z]{4,}", text.lower())}


def _slug(text: str) -> str:
    return re.sub(r"[^a-z0-9]+", "-", text.lower()).strip("-")[:60] or "report"


def _clip(text: str, limit: int) -> str:
    text = " ".join(text.split())
    return text if len(text) <= limit else text[: limit - 1] + "…"
