"""What reaches the terminal is text, never terminal control.

Names, results and errors come from users, models and tools: an escape sequence in one
could recolour the terminal, move the cursor, rewrite what was printed before it, set the
window title or worse. Two layers keep them out:

- `SafeConsole`, the console every command prints through: every segment of text it renders
  (tables, the live view, markdown, errors) has its control characters made visible
  (`\\x1b` is shown as the four characters `\\x1b`), while the console's own styling and
  cursor control, which Rich renders as separate control segments, pass untouched.
- `plain(text)` for text placed inside a Rich markup string: its `[` are escaped so a name
  like `[bold]` or `[/]` is shown as written, and its control characters are made visible.
"""

import re
from collections.abc import Iterable
from typing import Any

from rich.console import Console, ConsoleOptions, RenderableType
from rich.markup import escape
from rich.segment import Segment

# C0 controls but newline and tab, DEL, and C1 controls (0x9b alone starts a sequence on
# some terminals), and the bidirectional overrides that reorder what a reader sees.
_CONTROL = re.compile("[\x00-\x08\x0b-\x1f\x7f-\x9f\u202a-\u202e\u2066-\u2069]")


def _visible(match: re.Match[str]) -> str:
    code = ord(match.group())
    return f"\\x{code:02x}" if code < 0x100 else f"\\u{code:04x}"


def neutralise(text: str) -> str:
    """`text` with every control character shown as its escape (`\\x1b`), so that printing
    it moves nothing and colours nothing."""
    return _CONTROL.sub(_visible, text)


def plain(value: Any) -> str:
    """A user's text, ready to put in a Rich markup string: shown as written."""
    return escape(neutralise(str(value)))


class SafeConsole(Console):
    """A Rich console that never writes a control character from the text it shows."""

    def render(
        self, renderable: RenderableType, options: ConsoleOptions | None = None
    ) -> Iterable[Segment]:
        for segment in super().render(renderable, options):
            if segment.control is None and _CONTROL.search(segment.text):
                yield Segment(neutralise(segment.text), segment.style)
            else:
                yield segment
