"""The event catalogue in code is the one the contract documents: a kind added to one and not
the other would reach watchers undocumented, or be documented and never sent."""

import re
from pathlib import Path

from accord.domain.events import EventKind

CONTRACTS = Path(__file__).parents[2] / "docs" / "contracts.md"


def test_every_event_kind_is_documented_and_every_documented_kind_exists() -> None:
    text = CONTRACTS.read_text(encoding="utf-8")
    table = text.split("## Execution events", 1)[1].split("###", 1)[0]
    documented = set(re.findall(r"^\| `([a-z_]+\.[a-z_]+)` \|", table, flags=re.MULTILINE))
    assert documented == {kind.value for kind in EventKind}


def test_a_kind_is_stored_and_sent_as_its_string() -> None:
    assert EventKind.STEP_COMPLETED == "step.completed"
    assert f"{EventKind.WORKSPACE_FILE_WRITTEN}" == "workspace.file_written"
