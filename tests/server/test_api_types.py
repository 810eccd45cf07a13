"""The browser's API types are generated from the server's OpenAPI document, so they cannot
drift from the API: a change to what it takes or answers fails here until `./dev api-types`
regenerates them."""

import json
import shutil
import subprocess
from pathlib import Path

from accord.domain.events import EventKind
from accord.server.openapi import document_json

UI = Path(__file__).resolve().parents[2] / "ui"
SCHEMA_TS = UI / "src" / "api" / "schema.ts"


def test_the_browsers_api_types_are_generated_from_the_current_api() -> None:
    npm = shutil.which("npm")
    assert npm and (UI / "node_modules").is_dir(), "the UI is not set up: run ./dev setup"
    generated = subprocess.run(
        [npm, "run", "--silent", "api-types"],  # the same command as ./dev api-types
        cwd=UI,
        input=document_json(),
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    assert generated == SCHEMA_TS.read_text(), (
        "ui/src/api/schema.ts differs from the API's document: run ./dev api-types"
    )


def test_the_event_streams_say_what_their_frames_carry() -> None:
    """Each frame's `data` is an event of the log or a piece of live text, both described."""
    document = json.loads(document_json())
    for path in ("/api/v1/events", "/api/v1/executions/{execution_id}/events"):
        stream = document["paths"][path]["get"]["responses"]["200"]["content"]
        data = stream["text/event-stream"]["itemSchema"]["properties"]["data"]
        assert data["contentSchema"] == {
            "oneOf": [
                {"$ref": "#/components/schemas/ExecutionEvent"},
                {"$ref": "#/components/schemas/TextDelta"},
            ]
        }
    schemas = document["components"]["schemas"]
    assert schemas["TextDelta"]["properties"]["kind"]["const"] == "text.delta"
    assert "data" in schemas["ExecutionEvent"]["required"]
    # The catalogue of kinds and their payloads, for clients to read `data` by `kind`.
    assert schemas["EventKind"]["enum"] == [kind.value for kind in EventKind]
    assert "resultExcerpt" in schemas["ToolCalled"]["required"]
