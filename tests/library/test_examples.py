"""The documentation runs as written: every script in examples/python/ and the README's
Python API example, each as a user runs it, in a data directory of its own."""

import re
import subprocess
import sys
from collections.abc import Iterator

import pytest

from tests.library.conftest import EXAMPLES, ROOT, script_env

SCRIPTS = sorted((EXAMPLES / "python").glob("*.py"))


def readme_example() -> str:
    readme = (ROOT / "README.md").read_text()
    section = readme.split("## Python API", 1)[1].split("\n## ", 1)[0]
    (code,) = re.findall(r"```python\n(.*?)```", section, flags=re.S)
    return code


@pytest.fixture(scope="module")
def runs(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, subprocess.Popen[str]]]:
    """Every script at once (they are independent), each with its own data directory."""
    readme = tmp_path_factory.mktemp("readme") / "readme_example.py"
    readme.write_text(readme_example())
    processes = {}
    for script in [*SCRIPTS, readme]:
        cwd = tmp_path_factory.mktemp(script.stem)
        processes[script.name] = subprocess.Popen(
            [sys.executable, str(script)],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
            cwd=cwd,
            env=script_env(cwd / "data"),
        )
    yield processes
    for process in processes.values():
        if process.poll() is None:
            process.kill()


def output_of(runs: dict[str, subprocess.Popen[str]], name: str) -> str:
    out, err = runs[name].communicate(timeout=300)
    assert runs[name].returncode == 0, f"{name} failed:\n{out}\n{err}"
    return out


def test_every_script_has_a_test():
    assert {s.name for s in SCRIPTS} == {
        "pipeline.py",
        "parallel.py",
        "conditional.py",
        "recursive.py",
        "function_tools.py",
    }


def test_the_pipeline_script(runs):
    out = output_of(runs, "pipeline.py")
    assert re.search(r"^analyse: completed by Maya \(1 attempt\(s\)\)$", out, re.M)
    assert re.search(r"^completed: \d+ tokens, \d+ interactions$", out, re.M)
    assert "Written by the built-in offline model" in out  # the deliverable


def test_the_parallel_script_streams_its_events(runs):
    lines = output_of(runs, "parallel.py").splitlines()
    started = [line.split()[1] for line in lines if line.startswith("step.started")]
    assert started[0] == "plan" and started[-1] == "merge"
    assert set(started[1:4]) == {"technology", "users", "market"}
    assert "completed; deliverable:" in lines


def test_the_conditional_script_takes_one_branch(runs):
    out = output_of(runs, "conditional.py")
    outcome = re.search(r"^decided: (bug|feature)$", out, re.M)
    assert outcome is not None
    taken, skipped = ("fix", "specify") if outcome[1] == "bug" else ("specify", "fix")
    assert f"{taken}: completed" in out and f"{skipped}: skipped (condition is false" in out


def test_the_recursive_script_runs_its_nested_team(runs):
    out = output_of(runs, "recursive.py")
    assert "completed; child executions: 1" in out
    assert "audit: completed" in out


def test_the_function_tools_script_calls_its_tools_and_approves_one(runs):
    out = output_of(runs, "function_tools.py").splitlines()
    assert out[:4] == [
        "Sam called lookup_price: 12.5",
        "approving function.reserve_stock",
        "Olu called reserve_stock: reserved 3 x widget",
        "completed; 2 function tool calls",
    ]


def test_the_readme_example(runs):
    out = output_of(runs, "readme_example.py").splitlines()
    assert re.fullmatch(r"completed \d+ tokens", out[0])
    assert out[1].startswith("research completed Ada ") and out[2].startswith("write completed Bo ")
