"""How a model gives its structured answer, degrading per model instead of failing.

Four modes, strongest first (pydantic-ai's output markers do the work):

- `tool`: the answer is a call to an output tool (`ToolOutput`), collaboration tools are
  function tools. Needs tool calling, and a server that honours `tool_choice: required`.
- `native`: the answer is JSON constrained by the provider's JSON-schema mode
  (`NativeOutput`, `response_format` on OpenAI-compatible servers); tools stay function tools.
- `prompted`: the schema is in the instructions and the JSON is read leniently
  (`PromptedOutput`, through `TextToolsModel`); tools go through the text protocol.
- `text`: plain text is the answer (`TextOutput`): the deliverable, with a summary derived
  from it (see `lenient.derive_from_text`); tools go through the text protocol.

A provider's `outputMode` setting fixes the mode (`tool|native|prompted|text`), or `auto` (the
default) lets the team detect it: a mode that fails for reasons of shape (the server rejects
requests with tools, the answer never validates) falls to the next, and the mode that worked
is remembered per provider and model (the provider's `detectedOutputModes` setting).
"""

import re
from collections.abc import Mapping
from typing import Any, Literal, TypeVar, cast, get_args

from pydantic import BaseModel
from pydantic_ai import ModelRetry, NativeOutput, PromptedOutput, TextOutput, ToolOutput
from pydantic_ai.exceptions import UnexpectedModelBehavior, UserError
from pydantic_ai.models import Model

from accord.domain.agent import DETECTED_OUTPUT_MODES
from accord.domain.errors import ModelFailure
from accord.llm.lenient import TextNotUsable, derive_from_text
from accord.llm.text_tools import TextToolsModel

OutputMode = Literal["tool", "native", "prompted", "text"]
OUTPUT_MODES: tuple[OutputMode, ...] = get_args(OutputMode)
"""Strongest first: the order in which `auto` tries them."""
OUTPUT_MODE_SETTING = "outputMode"
DETECTED_SETTING = DETECTED_OUTPUT_MODES
"""Provider setting: model name -> {mode, reason}, written by the team as it detects."""

PROMPTED_TEMPLATE = (
    "When you give your final answer, write it as one JSON object that matches this JSON "
    "schema, with nothing before or after it:\n\n{schema}"
)

T = TypeVar("T", bound=BaseModel)


def configured_mode(settings: Mapping[str, Any]) -> OutputMode | None:
    """The provider's `outputMode` setting; None for `auto` (or none set)."""
    value = str(settings.get(OUTPUT_MODE_SETTING) or "auto").strip().lower()
    if value == "auto":
        return None
    if value not in OUTPUT_MODES:
        raise ModelFailure(
            f"outputMode {value!r} is not a mode: use one of auto, {', '.join(OUTPUT_MODES)}",
            details={"transient": False},
        )
    return value


def detected_mode(settings: Mapping[str, Any], model_name: str) -> OutputMode | None:
    """The mode detected earlier for `model_name` on this provider, if any."""
    detected = settings.get(DETECTED_SETTING)
    entry = detected.get(model_name) if isinstance(detected, Mapping) else None
    mode = entry.get("mode") if isinstance(entry, Mapping) else None
    return cast(OutputMode, mode) if mode in OUTPUT_MODES else None


def modes_to_try(settings: Mapping[str, Any], model_name: str) -> list[OutputMode]:
    """The fixed mode, or the ladder from the detected mode (or from the top) down."""
    fixed = configured_mode(settings)
    if fixed is not None:
        return [fixed]
    start = detected_mode(settings, model_name) or OUTPUT_MODES[0]
    return list(OUTPUT_MODES[OUTPUT_MODES.index(start) :])


def output_spec(mode: OutputMode, output_type: type[T]) -> Any:
    """The pydantic-ai `output_type` for `output_type` in `mode`."""
    match mode:
        case "tool":
            return ToolOutput(output_type)
        case "native":
            return NativeOutput(output_type)
        case "prompted":
            return PromptedOutput(output_type, template=PROMPTED_TEMPLATE)
        case "text":

            def read(text: str) -> T:
                try:
                    return derive_from_text(output_type, text)
                except TextNotUsable as exc:
                    raise ModelRetry(f"Your answer cannot be used: {exc}.") from exc

            return TextOutput(read)


def model_for_mode(mode: OutputMode, model: Model) -> Model:
    """`model` as it must be called in `mode`: without function tools below `native`."""
    return TextToolsModel(model) if mode in ("prompted", "text") else model


def text_mode_hint(output_type: type[BaseModel]) -> str:
    """What a plain-text answer must say, for the fields a text cannot leave out."""
    choices = [
        f"say which {name.replace('_', ' ')} you choose: "
        + " or ".join(str(o) for o in get_args(info.annotation))
        for name, info in output_type.model_fields.items()
        if info.is_required() and get_args(info.annotation) and _is_literal(info.annotation)
    ]
    return "Answer in plain text" + (f"; {'; '.join(choices)}." if choices else ".")


_CHOICE_HINT = re.compile(r"say which ([\w ]+?) you choose: ([^;.\n]+)")


def choices_asked(instructions: str) -> list[tuple[str, list[str]]]:
    """The choices a `text_mode_hint` in `instructions` asks for: (what, options), so that a
    model that follows instructions literally (the offline one, test doubles) can answer."""
    return [
        (what, [o.strip() for o in options.split(" or ")])
        for what, options in _CHOICE_HINT.findall(instructions)
    ]


def _is_literal(annotation: Any) -> bool:
    return getattr(annotation, "__origin__", None) is Literal


def mode_failure(error: BaseException) -> str | None:
    """Why a mode does not work with a model, if `error` says so; None when the error is not
    about the mode (a network fault, a rejected key) and trying another cannot help."""
    if isinstance(error, UnexpectedModelBehavior):
        return _first_line(error.message)
    if isinstance(error, UserError):
        return _first_line(str(error))
    if isinstance(error, ModelFailure) and error.details.get("rejected"):
        return str(error.details.get("diagnosis") or error.message)
    return None


def _first_line(text: str) -> str:
    return text.strip().splitlines()[0] if text.strip() else "no usable answer"
