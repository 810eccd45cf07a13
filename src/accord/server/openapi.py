"""The API's OpenAPI document (`/openapi.json`), with what FastAPI cannot say by itself: the
JSON each event-stream frame carries.

`python -m accord.server.openapi` prints the document without starting a server; the
browser's API types (`ui/src/api/schema.ts`) are generated from it by `./dev api-types`, and
a test fails when they differ from what the current server would produce.
"""

import json
from typing import Any

from fastapi import FastAPI
from pydantic import TypeAdapter
from pydantic.json_schema import models_json_schema

from accord.domain import events
from accord.domain.execution import ExecutionEvent, TextDelta

_SCHEMAS = "#/components/schemas/"
_EVENT_PAYLOADS: tuple[Any, ...] = (
    events.EventKind,
    events.ExecutionCreated,
    events.ExecutionStatusChanged,
    events.ExecutionProgress,
    events.StepStarted,
    events.StepCompleted,
    events.StepFailed,
    events.StepRetrying,
    events.StepSkipped,
    events.StepCancelled,
    events.WorkspaceFileWritten,
    events.ToolCalled,
    events.ApprovalEvent,
)
"""The catalogue of event kinds and their payloads (`ExecutionEvent.data` by `kind`; see
`accord.domain.events`), published for clients beside the frames."""


class AccordApi(FastAPI):
    """FastAPI, whose document also describes the event streams' frames."""

    def openapi(self) -> dict[str, Any]:
        if self.openapi_schema is None:
            document = super().openapi()  # cached on self: the additions below stay with it
            _describe_event_frames(document)
            return document
        return self.openapi_schema


def _describe_event_frames(document: dict[str, Any]) -> None:
    """The event streams (`accord.server.routes.events`) write their own frames, which
    FastAPI documents as plain text: say that each frame's `data` is an `ExecutionEvent`
    (with its `id` and its kind as `event`) or a `TextDelta`."""
    _, definitions = models_json_schema(
        [(ExecutionEvent, "serialization"), (TextDelta, "serialization")],
        ref_template=_SCHEMAS + "{model}",
    )
    for payload in _EVENT_PAYLOADS:
        schema = TypeAdapter(payload).json_schema(
            mode="serialization", ref_template=_SCHEMAS + "{model}"
        )
        definitions["$defs"][payload.__name__] = schema
    schemas = document["components"]["schemas"]
    for name, schema in definitions["$defs"].items():
        if schemas.setdefault(name, schema) != schema:
            raise RuntimeError(f"two different schemas are called {name} in the API")
    frame = {
        "type": "object",
        "required": ["data", "event"],
        "properties": {
            "data": {
                "type": "string",
                "contentMediaType": "application/json",
                "contentSchema": {
                    "oneOf": [
                        {"$ref": _SCHEMAS + model.__name__} for model in (ExecutionEvent, TextDelta)
                    ]
                },
            },
            "event": {"type": "string", "description": "The event's kind, or `text.delta`."},
            "id": {"type": "string", "description": "The event's ID (none on a text delta)."},
        },
    }
    for operations in document["paths"].values():
        for operation in operations.values():
            content = operation["responses"].get("200", {}).get("content", {})
            if "text/event-stream" in content:
                content["text/event-stream"] = {"itemSchema": frame}


def document() -> dict[str, Any]:
    """The document `/openapi.json` serves, made without a database or a running server."""
    from accord.server.app import create_app  # the app imports this module
    from accord.server.settings import ServerSettings

    return create_app(ServerSettings(database_url="sqlite://", run_engine=False)).openapi()


def document_json() -> str:
    return json.dumps(document(), indent=2) + "\n"


if __name__ == "__main__":
    print(document_json(), end="")
