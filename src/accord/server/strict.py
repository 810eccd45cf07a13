"""Request bodies are read as strictly as workflow files.

pydantic drops a field it does not know, so a PATCH with `dependson` for `dependsOn` once
answered 200 and silently removed a real dependency. Every route's body is checked here
against the model it declares, field by field through nested models, lists and maps: a key
the model does not know is a 422 naming its path with "did you mean". `NaN` and infinities
are refused too (JSON has no such numbers; Python's parser accepts them and they were stored
as null). The body size limit is FastAPI's own (`max_body_size`, see `accord.server.app`).
"""

import difflib
import json
import types
import typing
from collections.abc import Callable, Iterator
from typing import Any, Union

from fastapi import Request
from pydantic import BaseModel

from accord.domain.errors import InvalidInput, Problem, field_path


def unknown_fields(model: Any, value: Any, path: tuple[Any, ...] = ()) -> Iterator[Problem]:
    """Every key of `value` that `model` (a type annotation) does not declare."""
    origin = typing.get_origin(model)
    if origin in (Union, types.UnionType):
        options = [a for a in typing.get_args(model) if a is not type(None)]
        fitting = [a for a in options if _shape_fits(a, value)]
        if len(fitting) == 1:
            yield from unknown_fields(fitting[0], value, path)
        return
    if origin is typing.Annotated:
        yield from unknown_fields(typing.get_args(model)[0], value, path)
        return
    if origin in (list, tuple, set, frozenset) and isinstance(value, list):
        (item, *_) = typing.get_args(model) or (Any,)
        for i, element in enumerate(value):
            yield from unknown_fields(item, element, (*path, i))
        return
    if origin is dict and isinstance(value, dict):
        args = typing.get_args(model)
        if len(args) == 2:
            for key, element in value.items():
                yield from unknown_fields(args[1], element, (*path, key))
        return
    if not (isinstance(model, type) and issubclass(model, BaseModel) and isinstance(value, dict)):
        return
    if model.model_config.get("extra") == "allow":
        return
    known: dict[str, str] = {}
    for name, field in model.model_fields.items():
        for spelling in {name, field.alias or name, field.validation_alias}:
            if isinstance(spelling, str):
                known[spelling] = name
    for key, element in value.items():
        declared = known.get(key)
        if declared is None:
            # The JSON spelling (camelCase) first: it is what the client writes.
            close = difflib.get_close_matches(key, sorted(_aliases(model)), n=1, cutoff=0.5)
            hint = f"did you mean {close[0]!r}? " if close else ""
            yield Problem(
                field_path((*path, key)),
                f"unknown field {key!r}",
                f"{hint}remove it, or use one of: {', '.join(sorted(_aliases(model)))}",
            )
        else:
            field_type = model.model_fields[declared].annotation
            yield from unknown_fields(field_type, element, (*path, key))


def _aliases(model: type[BaseModel]) -> set[str]:
    return {field.alias or name for name, field in model.model_fields.items()}


def _shape_fits(model: Any, value: Any) -> bool:
    origin = typing.get_origin(model) or model
    if isinstance(value, dict):
        return origin is dict or (isinstance(origin, type) and issubclass(origin, BaseModel))
    if isinstance(value, list):
        return origin in (list, tuple, set, frozenset)
    return False


def _reject_constant(name: str) -> None:
    raise ValueError(f"{name} is not a JSON number")


def parse_body(body: bytes) -> Any:
    """The body as JSON, NaN and infinities refused; None when it is not JSON at all (left to
    FastAPI's own error)."""
    try:
        return json.loads(body, parse_constant=_reject_constant)
    except ValueError as exc:
        if "is not a JSON number" in str(exc):
            raise InvalidInput.of(
                "body", str(exc), "send a finite number (JSON has no NaN or Infinity)"
            ) from None
        return None


def _body_model(endpoint: Callable[..., Any]) -> Any:
    """The model a route reads its body into: its parameter typed as a pydantic model
    (FastAPI reads such a parameter from the body), None if it takes no body."""
    hints = typing.get_type_hints(endpoint, include_extras=True)
    for name, hint in hints.items():
        if name == "return" or typing.get_origin(hint) is typing.Annotated:
            continue  # Annotated parameters are dependencies (SessionDep, CurrentUser...)
        options = [hint, *typing.get_args(hint)]
        if any(isinstance(o, type) and issubclass(o, BaseModel) for o in options):
            return hint
    return None


async def strict_body(request: Request) -> None:
    """A dependency of every API route: refuse unknown fields and non-finite numbers in the
    body before the route reads it."""
    endpoint = request.scope.get("endpoint")
    model = _body_model(endpoint) if endpoint is not None else None
    if model is None:
        return
    body = await request.body()  # cached: the route reads the same bytes again
    data = parse_body(body) if body else None
    if data is not None:
        problems = list(unknown_fields(model, data))
        if problems:
            raise InvalidInput(problems)
