"""Library benchmark (issue 15): what `import accord` costs, and what running a workflow
from Python costs next to `accord run` of the same workflow.

- `import accord`, `import accord` + `accord.Workflow` (the definition machinery) and
  `accord --help`: wall time of a fresh interpreter, less that of `python -c pass`.
- The same three-step pipeline on the offline model (no latency), run as a script calling
  `workflow.run()` and as `accord run FILE --json`, each a fresh process on a data directory
  that earlier runs already set up; and `workflow.run()` called again inside one process
  (engine start and stop included, interpreter and imports not).
- A one-step workflow on the offline model, `workflow.run()` again inside one process: as
  is, and with the agent calling a function tool (`@accord.tool`) once, so the difference is
  what a durable function tool call costs (recorded, reported as an event, counted).

    python bench/run.py --scenario library [--json]

Medians of five timed runs after one warm-up.
"""

import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

TIMED_RUNS = 5
ACCORD = str(Path(sys.executable).parent / "accord")
WORKFLOW = """
import accord

kim = accord.Agent(name="Kim", role="developer")
workflow = accord.Workflow(
    name="Bench pipeline",
    agents=[kim],
    steps=[
        accord.Step(id="a", name="A", agent=kim),
        accord.Step(id="b", name="B", agent=kim, depends_on=["a"]),
        accord.Step(id="c", name="C", agent=kim, depends_on=["b"]),
    ],
)
"""
SCRIPT = WORKFLOW + "assert workflow.run().completed\n"
IN_PROCESS = (
    WORKFLOW
    + """
import json, time
walls = []
for _ in range({runs}):
    started = time.perf_counter()
    assert workflow.run().completed
    walls.append(time.perf_counter() - started)
print(json.dumps(walls))
"""
)
ONE_STEP = """
import json, time
import accord


@accord.tool
def lookup_price(product: str) -> str:
    \"\"\"The price of a product.\"\"\"
    return product + ": 12.50 EUR"


def one_step(tools):
    kim = accord.Agent(name="Kim", role="sales", tools=tools)
    return accord.Workflow(
        name="Bench one step" + (" with a tool" if tools else ""),
        agents=[kim],
        steps=[accord.Step(id="price", name="Lookup price", agent=kim)],
    )


walls = {{}}
for label, tools in (("plain", []), ("tool", [lookup_price])):
    workflow = one_step(tools)
    runs = []
    for _ in range({runs}):
        started = time.perf_counter()
        result = workflow.run(inputs={{"product": "widget"}})
        assert result.completed and (not tools or "12.50 EUR" in result.deliverable)
        runs.append(time.perf_counter() - started)
    walls[label] = runs[1:]
print(json.dumps(walls))
"""


def _median_wall(command: list[str], *, env: dict[str, str] | None = None, cwd: Path) -> float:
    walls = []
    for i in range(TIMED_RUNS + 1):
        started = time.perf_counter()
        subprocess.run(command, env=env, cwd=cwd, check=True, capture_output=True)
        if i:  # the first is a warm-up
            walls.append(time.perf_counter() - started)
    return statistics.median(walls)


def main(as_json: bool) -> None:
    with tempfile.TemporaryDirectory(prefix="accord-bench-library-") as tmp:
        root = Path(tmp)
        env = {k: v for k, v in os.environ.items() if not k.startswith("ACCORD_")}
        env |= {"ACCORD_DATA_DIR": str(root / "data"), "ACCORD_DBOS_LOG_LEVEL": "ERROR"}
        python = [sys.executable, "-c"]
        base = _median_wall([*python, "pass"], cwd=root)
        results: list[dict[str, Any]] = []

        def record(name: str, seconds: float, **extra: Any) -> None:
            results.append({"scenario": "library", "measure": name, "seconds": seconds, **extra})

        record("import accord", _median_wall([*python, "import accord"], cwd=root) - base)
        record(
            "import accord + accord.Workflow",
            _median_wall([*python, "import accord; accord.Workflow"], cwd=root) - base,
        )
        record("accord --help", _median_wall([ACCORD, "--help"], cwd=root) - base)

        script = root / "bench_pipeline.py"
        script.write_text(SCRIPT)
        from_script = _median_wall([sys.executable, str(script)], env=env, cwd=root)
        exec_namespace: dict[str, Any] = {}
        exec(WORKFLOW, exec_namespace)  # the same workflow, as a file for `accord run`
        file = exec_namespace["workflow"].save(root / "bench_pipeline.yaml")
        from_cli = _median_wall([ACCORD, "run", str(file), "--json"], env=env, cwd=root)
        record("python script: workflow.run()", from_script)
        record("accord run FILE --json", from_cli)
        record("difference (script - accord run)", from_script - from_cli)
        in_process = root / "in_process.py"
        in_process.write_text(IN_PROCESS.format(runs=TIMED_RUNS + 1))
        done = subprocess.run(
            [sys.executable, str(in_process)], env=env, cwd=root, check=True, capture_output=True
        )
        walls = json.loads(done.stdout)[1:]
        record("workflow.run() again in one process", statistics.median(walls))
        one_step = root / "one_step.py"
        one_step.write_text(ONE_STEP.format(runs=TIMED_RUNS + 1))
        done = subprocess.run(
            [sys.executable, str(one_step)], env=env, cwd=root, check=True, capture_output=True
        )
        steps = json.loads(done.stdout)
        plain, tool = statistics.median(steps["plain"]), statistics.median(steps["tool"])
        record("one-step workflow.run() in one process", plain)
        record("the same with one function tool call", tool)
        record("difference (function tool call)", tool - plain)
    _report(results, as_json, print_line=print)


def _report(
    results: list[dict[str, Any]], as_json: bool, *, print_line: Callable[[str], None]
) -> None:
    if as_json:
        for result in results:
            print_line(json.dumps(result))
        return
    load = os.getloadavg()[0]
    print_line(f"library benchmark (load average {load:.1f}; medians of {TIMED_RUNS} runs)")
    for result in results:
        print_line(f"  {result['measure']:40} {result['seconds'] * 1000:9.0f} ms")
