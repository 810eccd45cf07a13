"""The function tools this process has: Python functions made tools with `@accord.tool`.

A workflow names a function tool by where it is defined (`module:qualname`, see
`FunctionToolSpec`); decorating the function registers it here under that reference, so a
process that imported the function can run the steps that use it. A process that did not
(`accord run` of the YAML, a server's worker) has nothing under the reference: the step
fails with `FunctionToolMissing`, saying which function and how to provide it, and is not
retried (no retry in that process can find it).

Defining the function again (a notebook cell run twice) replaces the earlier one.
"""

import copy
from typing import Any

from pydantic_ai import Tool

from accord.domain.errors import AccordError
from accord.domain.tools import FunctionToolSpec

_registered: dict[str, Tool[Any]] = {}


class FunctionToolMissing(AccordError):
    """A step's agent may use a function tool this process has not imported."""

    code = "function_tool_missing"


def register(reference: str, tool: Tool[Any]) -> None:
    """Make `tool` the function tool that `reference` (`module:qualname`) names here."""
    _registered[reference] = tool


def function_tool(name: str, spec: FunctionToolSpec) -> Tool[Any]:
    """The registered tool that the workflow's `functionTools.<name>` names, under that name
    (the name the agents' allow-lists use and the model sees)."""
    tool = _registered.get(spec.function)
    if tool is None:
        module = spec.function.partition(":")[0]
        where = (
            "the script that defines it (it lives in that script's __main__)"
            if module == "__main__"
            else f"a Python program that imports {module} (where @accord.tool makes it a tool)"
        )
        raise FunctionToolMissing(
            f"the function tool {name!r} ({spec.function}) is not available in this process: "
            f"run the workflow from {where}, with workflow.run(); `accord run` and servers "
            "cannot run function tools",
            details={"tool": name, "function": spec.function},
        )
    if tool.name == name:
        return tool
    renamed = copy.copy(tool)
    renamed.name = name
    return renamed
