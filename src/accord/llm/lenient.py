"""Reading what weak models write: JSON wrapped in prose or fences, broken JSON, plain text.

Small local models asked for a JSON object often answer with a sentence before it, a Markdown
fence around it, trailing commas or single quotes. `read_json_object` finds the object and
reads it as strict JSON once its trailing commas are dropped; only what still does not parse
is repaired (with `json_repair`, a library made for exactly this), since the repair guesses at
quotes and can cut a valid string holding an odd number of escaped quotes into made-up keys.
When no object can be found at all, `derive_from_text` builds the wanted answer from the
prose itself: the text becomes the main text field, its first sentence the summary, and a
field with a closed set of values (a verdict, a vote's choice) takes the value the text names.
Only when the text names none of them is it refused, with a message the model can act on.
"""

import json
import re
import types
import typing
from typing import Any, Literal, TypeVar, get_args, get_origin

import json_repair
from pydantic import BaseModel, ValidationError

T = TypeVar("T", bound=BaseModel)

_FENCE = re.compile(r"```[a-zA-Z0-9_-]*\s*\n?(.*?)```", re.DOTALL)
_CLOSER = re.compile(r"\s*[}\]]")
_SENTENCE_END = re.compile(r"(?<=[.!?])\s+")
_MAIN_TEXT_FIELDS = ("output", "answer", "feedback", "rationale", "content", "reason", "text")


class TextNotUsable(ValueError):
    """The text holds neither a valid object nor enough to derive one; the message says what
    is missing, for the model's next try."""


def read_json_object(text: str) -> dict[str, Any] | None:
    """The JSON object in `text` (fenced or not, with prose around it), repaired; None when
    the text holds no object."""
    candidates = [m.group(1) for m in _FENCE.finditer(text)]
    start = text.find("{")
    if start >= 0:
        candidates.append(text[start : text.rfind("}") + 1 or len(text)])
    for candidate in candidates:
        found = _strict(candidate)
        if found is None:
            found = json_repair.repair_json(candidate, return_objects=True)
        if isinstance(found, dict) and found:
            return found
    return None


def _strict(candidate: str) -> Any:
    """`candidate` parsed as JSON once trailing commas (outside strings) are dropped; None
    when it is not valid JSON even then."""
    try:
        return json.loads(_without_trailing_commas(candidate))
    except ValueError:
        return None


def _without_trailing_commas(text: str) -> str:
    """`text` without the commas that stand right before a closing `}` or `]`, leaving string
    contents alone."""
    kept: list[str] = []
    in_string = escaped = False
    for index, char in enumerate(text):
        if in_string:
            if escaped:
                escaped = False
            elif char == "\\":
                escaped = True
            elif char == '"':
                in_string = False
        elif char == '"':
            in_string = True
        elif char == "," and _CLOSER.match(text, index + 1):
            continue
        kept.append(char)
    return "".join(kept)


def validate_leniently(output_type: type[T], text: str) -> T:
    """The object in `text` validated as `output_type`; `ValidationError` if it does not fit,
    `TextNotUsable` if there is no object."""
    found = read_json_object(text)
    if found is None:
        raise TextNotUsable("the answer holds no JSON object")
    return output_type.model_validate(found)


def derive_from_text(output_type: type[T], text: str) -> T:
    """`output_type` from a plain-text answer: a JSON object in it if there is a valid one,
    otherwise fields filled from the prose (see the module docstring)."""
    try:
        return validate_leniently(output_type, text)
    except (TextNotUsable, ValidationError):
        pass
    prose = _strip_fences(text).strip()
    if not prose:
        raise TextNotUsable("the answer is empty: write the answer as text")
    values: dict[str, Any] = {}
    missing: list[str] = []
    fields = output_type.model_fields
    main = next((name for name in _MAIN_TEXT_FIELDS if name in fields), None)
    for name, info in fields.items():
        annotation = info.annotation
        options = _literal_options(annotation)
        if options:
            chosen = _named_option(prose, options)
            if chosen is not None:
                values[name] = chosen
            elif info.is_required():
                missing.append(f"{name} (one of: {', '.join(map(str, options))})")
        elif name == "summary":
            values[name] = first_sentence(prose)
        elif name == main or (info.is_required() and _is_text(annotation)):
            values[name] = prose
        elif info.is_required():
            missing.append(name)
    if missing:
        raise TextNotUsable(f"the answer does not say {'; '.join(missing)}")
    return output_type.model_validate(values)


def first_sentence(text: str, *, limit: int = 300) -> str:
    """The first sentence of `text` (its first line if that is shorter), for a summary."""
    line = next((ln.strip(" #*-") for ln in text.splitlines() if ln.strip(" #*-")), text)
    sentence = _SENTENCE_END.split(line, maxsplit=1)[0]
    return sentence if len(sentence) <= limit else sentence[: limit - 1].rstrip() + "…"


def _strip_fences(text: str) -> str:
    return _FENCE.sub(lambda m: m.group(1), text)


def _is_text(annotation: Any) -> bool:
    return annotation is str or (
        get_origin(annotation) in (typing.Union, types.UnionType) and str in get_args(annotation)
    )


def _literal_options(annotation: Any) -> tuple[Any, ...]:
    return get_args(annotation) if get_origin(annotation) is Literal else ()


def _named_option(text: str, options: tuple[Any, ...]) -> Any:
    """The option the text names first (as a word; `request_changes` also as "request
    changes"), or None."""
    lowered = text.lower()
    best: tuple[int, Any] | None = None
    for option in options:
        spelled = str(option).lower()
        for form in {spelled, spelled.replace("_", " "), spelled.replace("_", "-")}:
            match = re.search(rf"(?<![\w-]){re.escape(form)}(?![\w-])", lowered)
            if match and (best is None or match.start() < best[0]):
                best = (match.start(), option)
    return None if best is None else best[1]
