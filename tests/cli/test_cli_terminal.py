"""Issue 17 item 6: control characters and escape sequences in user text never reach the
terminal raw: names, results and errors show them as visible escapes (`\\x1b`), Rich markup
in names is shown as written, and expected conditions print no enum repr or traceback."""

import re
from pathlib import Path

from .conftest import Accord

HOSTILE = r"""
name: "Evil \e]0;pwned\a\e[2J [red]flow[/red] \0nul"
workflowType: pipeline
agents:
  - name: "Mal \e[31mred\e[0m [bold]"
    role: "writer\e[5m"
steps:
  - id: gather
    name: "Gather \e[1A\e[2K up \x9b31m"
    instructions: "List the changes \e]8;;http://x\e\\link\e]8;;\e\\ here."
"""

RAW = ("\x1b", "\x00", "\x07", "\x9b")


def assert_no_control(*texts: str) -> None:
    for text in texts:
        for code in RAW:
            assert code not in text, f"{code!r} reached the terminal in:\n{text}"


def test_hostile_names_never_reach_the_terminal_raw(accord: Accord, tmp_path: Path) -> None:
    file = tmp_path / "evil.yaml"
    file.write_text(HOSTILE)
    run = accord("run", str(file))
    assert_no_control(run.stdout, run.stderr)
    assert "Execution completed" in run.stdout
    assert "Traceback" not in run.stderr  # a successful run ends quietly (it once did not)
    assert "Mal \\x1b[31mred\\x1b[0m [bold]" in run.stdout  # visible, markup as written

    execution = re.search(r"Execution completed \((\S+)\)", run.stdout)
    assert execution is not None
    short = execution.group(1)[:8]
    outputs = [
        accord("workflows", "list"),
        accord("agents", "list"),
        accord("executions", "list"),
        accord("executions", "show", short),
        accord("executions", "export", short, "--format", "md"),
    ]
    for done in outputs:
        assert_no_control(done.stdout, done.stderr)
    listing = " ".join(outputs[0].stdout.split())
    assert "[red]flow[/red]" in listing and "\\x00nul" in listing

    missing = accord("workflows", "show", "\x1b[2Jnope", ok=False)
    assert missing.returncode == 1
    assert_no_control(missing.stdout, missing.stderr)
    assert "Traceback" not in missing.stderr and "<" not in missing.stderr
