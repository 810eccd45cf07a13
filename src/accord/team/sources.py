"""What a step's deliverable cites: the questions asked and their answers, the sub-tasks
delegated, the feedback given and addressed, the team knowledge used.

The collaboration tools note each as it happens (a replayed attempt replays its tools, so the
list comes back the same), and the runtime appends them to the deliverable as its "Sources"
section, with the interaction and knowledge IDs a reader can look up.
"""

from dataclasses import dataclass
from typing import Literal

SourceKind = Literal["question", "delegation", "feedback", "review", "knowledge"]
SOURCES_HEADING = "## Sources"


@dataclass(frozen=True)
class Source:
    kind: SourceKind
    ref: str
    """The interaction's or knowledge entry's ID (empty when it has none)."""
    text: str


def _clip(text: str, limit: int = 240) -> str:
    text = " ".join(text.split())
    return text if len(text) <= limit else text[: limit - 1].rstrip() + "…"


def render_sources(sources: list[Source]) -> str:
    """The "Sources" section (empty without sources); each source once."""
    seen: set[tuple[str, str]] = set()
    lines = []
    for source in sources:
        key = (source.kind, source.ref or source.text)
        if key in seen:
            continue
        seen.add(key)
        ref = f" ({_label(source.kind)} {source.ref})" if source.ref else ""
        lines.append(f"- {_clip(source.text)}{ref}")
    if not lines:
        return ""
    return f"{SOURCES_HEADING}\n" + "\n".join(lines)


def _label(kind: SourceKind) -> str:
    return "knowledge" if kind == "knowledge" else "interaction"
