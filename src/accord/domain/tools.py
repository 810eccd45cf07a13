"""Agents' tools as a workflow declares them: MCP servers, built-in toolkits, function
tools, allow-lists.

A workflow lists its MCP servers in the `mcpServers` shape that Claude Desktop, pydantic-ai
and LangChain read (stdio: `command`, `args`, `env`, `cwd`; streamable HTTP: `url`,
`headers`), each optionally marked `requireApproval`. Values may hold `${VAR}` or
`${VAR:-default}`; they are stored as written and expanded only by the process that runs the
step (`expand`), so secrets stay in that process's environment.

Each agent names what it may use in `tools`: a whole server or toolkit (`files`), one tool
(`files.read_text_file`), or a pattern (`git.*`, `*.read_*`). `AllowList` answers whether a
tool is on the list; `allow_list_problems` finds names that match nothing a workflow declares.

A built-in toolkit may be marked `requireApproval` in the workflow's `toolkits` block. A
function tool (`functionTools`) is a Python function made a tool with `@accord.tool`: the
workflow names it and says where it is defined (`module:qualname`); only a process that has
imported it (so registered it) can run it, anywhere else the step that needs it fails saying
so. Agents name a function tool by its name alone, and the model sees that name unprefixed.
"""

import difflib
import fnmatch
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any, Literal

from pydantic import Field, model_validator

from accord.domain.base import CamelModel
from accord.domain.errors import Problem

WORKSPACE_TOOLKIT = "workspace"
BUILTIN_TOOLKITS: frozenset[str] = frozenset({WORKSPACE_TOOLKIT})
"""Toolkits Accord ships; an agent names them in `tools` as it names a server."""

RUNTIME_VARIABLES: frozenset[str] = frozenset({"WORKSPACE", "EXECUTION_ID", "ACCORD_PYTHON"})
"""Variables known only when a step runs (the execution's workspace folder and ID, the Python
interpreter running Accord, which has the `mcp` SDK for Python servers): never a validation
problem, always expanded."""
WORKFLOW_DIR = "WORKFLOW_DIR"
"""In a workflow file, the folder the file is in (so a file can name a server script beside
it); replaced when the file is installed (`in_folder`)."""

SERVER_NAME = re.compile(r"^[A-Za-z][A-Za-z0-9_-]{0,63}$")
_VARIABLE = re.compile(r"\$\{([A-Za-z_][A-Za-z0-9_]*)(:-([^}]*))?\}")


def _needs_approval(require_approval: bool | list[str], tool: str) -> bool:
    if isinstance(require_approval, bool):
        return require_approval
    return tool in require_approval


class McpServer(CamelModel):
    """One entry of `mcpServers`: a local program spoken to over stdio (`command`), a
    server reached over streamable HTTP (`url`), or one the user saved (`saved`: its name),
    whose configuration and secrets are filled in when a step runs."""

    type: Literal["stdio", "http", "streamable-http", "streamableHttp"] | None = Field(
        default=None,
        description="Optional, as other MCP clients write it; the transport follows from "
        "`command` or `url`.",
    )
    command: str | None = Field(
        default=None, min_length=1, description="stdio: the program to start, e.g. `npx`."
    )
    args: list[str] = Field(default_factory=list, description="stdio: its arguments.")
    env: dict[str, str] = Field(
        default_factory=dict,
        description="stdio: environment variables for the program (`${VAR}` expands from the "
        "environment of the process running the step).",
    )
    cwd: str | None = Field(default=None, description="stdio: the folder it starts in.")
    url: str | None = Field(
        default=None, min_length=1, description="Streamable HTTP: the server's endpoint URL."
    )
    headers: dict[str, str] = Field(
        default_factory=dict,
        description="Streamable HTTP: headers sent with every request (`${VAR}` expands).",
    )
    require_approval: bool | list[str] = Field(
        default=False,
        description="`true`: every call of this server waits for a user's approval; a list: "
        "only the calls of these tools do.",
    )
    saved: str | None = Field(
        default=None,
        min_length=1,
        description="The name of one of your saved MCP servers (`accord mcp-servers list`), "
        "instead of `command` or `url`.",
    )

    @model_validator(mode="after")
    def _one_transport(self) -> "McpServer":
        if self.saved is not None:
            if any((self.command, self.url, self.args, self.env, self.cwd, self.headers)):
                raise ValueError(
                    "a saved server's command, url, env and headers are those it was saved "
                    "with: give only `saved` (and `requireApproval`), or no `saved`"
                )
            return self
        if (self.command is None) == (self.url is None):
            raise ValueError(
                "give either `command` (a program spoken to over stdio) or `url` (a streamable "
                "HTTP server), not both and not neither"
            )
        if self.url is not None and (self.args or self.env or self.cwd):
            raise ValueError("`args`, `env` and `cwd` are for stdio servers (`command`)")
        if self.command is not None and self.headers:
            raise ValueError("`headers` are for HTTP servers (`url`)")
        return self

    @property
    def transport(self) -> Literal["stdio", "http"]:
        return "stdio" if self.command is not None else "http"

    def variables(self) -> set[str]:
        """The `${VAR}` names its values use without a default."""
        return {name for name, has_default in _references(self._values()) if not has_default}

    def _values(self) -> Iterable[str]:
        yield from (v for v in (self.command, self.cwd, self.url) if v is not None)
        yield from self.args
        yield from self.env.values()
        yield from self.headers.values()

    def needs_approval(self, tool: str) -> bool:
        return _needs_approval(self.require_approval, tool)

    def describe(self) -> str:
        """How it is reached, as a person reads it (`npx -y pkg /data`, or the URL)."""
        if self.command is not None:
            return " ".join([self.command, *self.args])
        if self.saved is not None:
            return f"saved server {self.saved!r}"
        return self.url or ""


class ToolkitSettings(CamelModel):
    """How the workflow uses a built-in toolkit (an entry of `toolkits`, by its name)."""

    require_approval: bool | list[str] = Field(
        default=False,
        description="`true`: every call of this toolkit waits for a user's approval; a list: "
        "only the calls of these tools do (e.g. `[write_file, edit_file]`).",
    )

    def needs_approval(self, tool: str) -> bool:
        return _needs_approval(self.require_approval, tool)


FUNCTION_TOOL_SERVER = "function"
"""What a function tool's calls are reported under (`function.<name>`), where an MCP tool's
are under its server's name."""
FUNCTION_TOOL_NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_]{0,63}$")
FUNCTION_REFERENCE = re.compile(r"^[A-Za-z_][\w.]*:[A-Za-z_<][\w.<>]*$")
RESERVED_TOOL_NAMES: frozenset[str] = frozenset(
    {
        "share_knowledge",
        "search_knowledge",
        "validate_knowledge",
        "ask_question",
        "delegate_task",
        "give_feedback",
        "final_result",
    }
)
"""Tools every agent already has (the collaboration tools, and the one that returns the
step's result): a function tool may not take their names."""


class FunctionToolSpec(CamelModel):
    """An entry of `functionTools`: a Python function made a tool with `@accord.tool`."""

    function: str = Field(
        description="Where the function is defined, `module:qualname` (e.g. "
        "`pricing:lookup_price`). Only a process that has imported it can run the tool.",
    )
    require_approval: bool = Field(
        default=False, description="`true`: every call waits for a user's approval."
    )


def function_tool_problems(
    functions: Mapping[str, FunctionToolSpec],
    *,
    where: str,
    servers: Iterable[str],
) -> list[Problem]:
    """Function tools' names must be usable tool names that nothing else declares."""
    taken = {*servers, *BUILTIN_TOOLKITS}
    problems = []
    for name, spec in functions.items():
        if not FUNCTION_TOOL_NAME.match(name):
            problems.append(
                Problem(
                    f"{where}.{name}",
                    f"{name!r} is not a usable function tool name",
                    "use a Python identifier: letters, digits and '_' (at most 64), not "
                    "starting with a digit",
                )
            )
        elif name in taken:
            problems.append(
                Problem(
                    f"{where}.{name}",
                    f"{name!r} is also the name of an MCP server or a built-in toolkit",
                    "give the function tool another name (`@accord.tool(name=...)`)",
                )
            )
        elif name in RESERVED_TOOL_NAMES:
            problems.append(
                Problem(
                    f"{where}.{name}",
                    f"{name!r} is the name of a tool every agent already has",
                    "give the function tool another name (`@accord.tool(name=...)`)",
                )
            )
        if not FUNCTION_REFERENCE.match(spec.function):
            problems.append(
                Problem(
                    f"{where}.{name}.function",
                    f"{spec.function!r} does not say where a function is defined",
                    "write `module:qualname`, e.g. `pricing:lookup_price`",
                )
            )
    return problems


def toolkit_problems(toolkits: Mapping[str, ToolkitSettings], *, where: str) -> list[Problem]:
    """`toolkits` may only configure the built-in toolkits."""
    return [
        Problem(
            f"{where}.{name}",
            f"{name!r} is not a built-in toolkit",
            f"use one of: {', '.join(sorted(BUILTIN_TOOLKITS))} (MCP servers go in mcpServers)",
        )
        for name in toolkits
        if name not in BUILTIN_TOOLKITS
    ]


def _references(values: Iterable[str]) -> Iterable[tuple[str, bool]]:
    for value in values:
        for match in _VARIABLE.finditer(value):
            yield match.group(1), match.group(2) is not None


class MissingVariable(ValueError):
    def __init__(self, name: str) -> None:
        super().__init__(f"environment variable {name} is not set")
        self.name = name


def expand(value: str, environ: Mapping[str, str]) -> str:
    """`${VAR}` and `${VAR:-default}` replaced from `environ`; raises `MissingVariable`."""

    def replace(match: re.Match[str]) -> str:
        name, has_default, default = match.group(1), match.group(2) is not None, match.group(3)
        if name in environ:
            return environ[name]
        if has_default:
            return default or ""
        raise MissingVariable(name)

    return _VARIABLE.sub(replace, value)


def expanded(server: McpServer, environ: Mapping[str, str]) -> McpServer:
    """The server with every value expanded (for the process about to start or call it)."""
    return server.model_copy(
        update={
            "command": expand(server.command, environ) if server.command else None,
            "args": [expand(a, environ) for a in server.args],
            "env": {k: expand(v, environ) for k, v in server.env.items()},
            "cwd": expand(server.cwd, environ) if server.cwd else None,
            "url": expand(server.url, environ) if server.url else None,
            "headers": {k: expand(v, environ) for k, v in server.headers.items()},
        }
    )


def in_folder(server: McpServer, folder: str) -> McpServer:
    """`${WORKFLOW_DIR}` replaced by `folder` where a stdio server is started from."""
    token = "${" + WORKFLOW_DIR + "}"

    def sub(value: str) -> str:
        return value.replace(token, folder)

    return server.model_copy(
        update={
            "command": sub(server.command) if server.command else None,
            "args": [sub(a) for a in server.args],
            "cwd": sub(server.cwd) if server.cwd else None,
        }
    )


def server_problems(
    servers: Mapping[str, McpServer], *, where: str, environ: Mapping[str, str] | None
) -> list[Problem]:
    """Bad server names, and (when `environ` is given) variables it does not define."""
    problems = []
    for name, server in servers.items():
        if not SERVER_NAME.match(name):
            problems.append(
                Problem(
                    f"{where}.{name}",
                    f"{name!r} is not a usable server name",
                    "start with a letter and use letters, digits, '-' or '_' (at most 64)",
                )
            )
        elif name in BUILTIN_TOOLKITS:
            problems.append(
                Problem(
                    f"{where}.{name}",
                    f"{name!r} is the name of a built-in toolkit",
                    "give the server another name",
                )
            )
        if environ is None:
            continue
        for variable in sorted(server.variables() - RUNTIME_VARIABLES - {WORKFLOW_DIR}):
            if variable not in environ:
                problems.append(
                    Problem(
                        f"{where}.{name}",
                        f"server {name!r} uses ${{{variable}}}, which is not set in the "
                        "environment",
                        f"export {variable} before starting Accord, or write "
                        f"${{{variable}:-<default>}} to give it a default",
                    )
                )
    return problems


@dataclass(frozen=True)
class ToolRef:
    """A tool as an allow-list names it: `server.tool` (a toolkit is a server here)."""

    server: str
    tool: str

    @property
    def name(self) -> str:
        return f"{self.server}.{self.tool}"


@dataclass(frozen=True)
class AllowList:
    """What an agent may use, from its `tools` entries."""

    entries: tuple[str, ...]

    def allows(self, ref: ToolRef) -> bool:
        return any(_entry_matches(entry, ref) for entry in self.entries)

    def servers(self, declared: Iterable[str]) -> list[str]:
        """The declared servers and toolkits of which at least one tool may be allowed."""
        return [s for s in declared if any(_entry_may_match(e, s) for e in self.entries)]


def _entry_matches(entry: str, ref: ToolRef) -> bool:
    server, _, tool = entry.partition(".")
    if not fnmatch.fnmatchcase(ref.server, server):
        return False
    return not tool or fnmatch.fnmatchcase(ref.tool, tool)


def _entry_may_match(entry: str, server: str) -> bool:
    return fnmatch.fnmatchcase(server, entry.partition(".")[0])


def allow_list_problems(
    tools: list[str], *, where: str, declared: Iterable[str], owner: str
) -> list[Problem]:
    """Each entry of an agent's `tools` must name something declared (a server or function
    tool of the workflow, or a built-in toolkit); a near miss is offered as "did you mean"."""
    names = sorted({*declared, *BUILTIN_TOOLKITS})
    problems = []
    for i, entry in enumerate(tools):
        server, dot, tool = entry.partition(".")
        if not entry.strip() or not server or (dot and not tool):
            problems.append(
                Problem(
                    f"{where}[{i}]",
                    f"{entry!r} is not a tool name",
                    "write a server or toolkit (`files`), one tool (`files.read_text_file`) or "
                    "a pattern (`git.*`)",
                )
            )
            continue
        if any(fnmatch.fnmatchcase(n, server) for n in names):
            continue
        fix = (
            f"declare a server {server!r} in mcpServers (or a function tool in functionTools), "
            f"or use one of: {', '.join(names)}"
        )
        close = difflib.get_close_matches(server, names, n=1)
        if close:
            fix = f"did you mean {close[0] + (dot + tool if tool else '')!r}? " + fix
        problems.append(
            Problem(
                f"{where}[{i}]",
                f"{owner} may use {entry!r}, but no server or toolkit named {server!r} is declared",
                fix,
            )
        )
    return problems


def redact(value: Any, *, key: str = "") -> Any:
    """A copy safe to show and store: values under secret-looking keys are replaced."""
    if isinstance(value, Mapping):
        return {k: redact(v, key=str(k)) for k, v in value.items()}
    if isinstance(value, list):
        return [redact(v, key=key) for v in value]
    if key and _SECRET_KEY.search(key) and value not in (None, ""):
        return "[redacted]"
    return value


_SECRET_KEY = re.compile(
    r"(?i)(secret|token|password|passwd|api[-_]?key|authorization|auth|credential|private[-_]?key|cookie)"
)
