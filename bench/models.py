"""Every example workflow against a real model on any OpenAI-compatible endpoint.

    python bench/models.py --base-url http://127.0.0.1:11434/v1 --model qwen2.5:0.5b   # Ollama
    python bench/models.py --base-url http://127.0.0.1:8080/v1 --model local           # llama.cpp
    python bench/models.py --base-url URL --model NAME --api-key KEY --output-mode prompted
    python bench/models.py ... --json            # one JSON object per workflow

Each example in examples/ runs once, every agent on the endpoint's model (one provider,
`outputMode: auto` unless told otherwise), in a scratch SQLite database, and prints per
workflow: completed or not, the output mode(s) the models answered in, model calls,
validation retries (answers sent back because they did not validate), tool calls,
interactions by type, tokens and time. Sub-workflows and delegated sub-tasks count toward
their workflow. The provider's detected output mode carries from one workflow to the next,
as it does for a user.
"""

import argparse
import json
import os
import sys
import tempfile
import time
from collections import Counter
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
EXAMPLES = ROOT / "examples"
PROVIDER_NAME = "bench-model"


@dataclass
class WorkflowTrial:
    """How one example fared on the model."""

    workflow: str
    status: str
    completed: bool
    output_modes: dict[str, int] = field(default_factory=dict)
    """Mode -> step attempts that answered in it."""
    model_calls: int = 0
    validation_retries: int = 0
    tool_calls: int = 0
    interactions: dict[str, int] = field(default_factory=dict)
    input_tokens: int = 0
    output_tokens: int = 0
    seconds: float = 0.0
    deliverable_chars: int = 0
    """Length of the last completed step's output: a completed run with nothing in it is not
    a success."""
    error: str | None = None


def run_examples(
    *,
    base_url: str,
    model: str,
    api_key: str | None = None,
    settings: dict[str, Any] | None = None,
    examples: list[Path] | None = None,
    data_dir: Path | None = None,
    timeout_s: float | None = None,
) -> list[WorkflowTrial]:
    """Run `examples` (default: every top-level example) on the endpoint, one after another."""
    data_dir = data_dir or Path(tempfile.mkdtemp(prefix="accord-models-"))
    os.environ["ACCORD_DATA_DIR"] = str(data_dir)
    from accord.storage.db import Database

    database = Database(f"sqlite:///{data_dir / 'bench.db'}")
    database.upgrade()
    try:
        user_id = _prepare_provider(database, base_url, model, api_key, settings or {})
        return [
            _run_one(database, user_id, path, timeout_s)
            for path in (examples or sorted(EXAMPLES.glob("*.yaml")))
        ]
    finally:
        database.dispose()


def _prepare_provider(
    database: Any, base_url: str, model: str, api_key: str | None, settings: dict[str, Any]
) -> str:
    from accord.domain.enums import ProviderKind
    from accord.storage.repositories.providers import ProviderRepository
    from accord.team.local import local_user_id

    with database.session() as session:
        user_id = local_user_id(session)
        providers = ProviderRepository(session)
        for existing in providers.list(user_id=user_id):
            if existing.name == PROVIDER_NAME:
                providers.delete(existing.id, user_id=user_id)
        providers.create(
            user_id=user_id,
            name=PROVIDER_NAME,
            kind=ProviderKind.OPENAI_COMPATIBLE,
            default_model=model,
            base_url=base_url,
            api_key=api_key,
            settings=settings,
        )
    return user_id


def _run_one(database: Any, user_id: str, path: Path, timeout_s: float | None) -> WorkflowTrial:
    from accord.cli.running import run_workflow
    from accord.team.workflow_files import install_workflow, load_workflow

    loaded = _on_model(load_workflow(path))
    with database.session() as session:
        workflow = install_workflow(session, user_id=user_id, loaded=loaded)
    started = time.monotonic()
    report = run_workflow(
        database, user_id=user_id, workflow_id=workflow.id, console=None, timeout_s=timeout_s
    )
    trial = WorkflowTrial(
        workflow=path.name,
        status=report.data["status"],
        completed=report.completed,
        interactions=dict(sorted(report.data["interactions"].items())),
        input_tokens=report.data["usage"]["inputTokens"],
        output_tokens=report.data["usage"]["outputTokens"],
        model_calls=report.data["usage"]["modelCalls"],
        seconds=round(time.monotonic() - started, 1),
        error=report.data["error"],
    )
    _add_step_runs(database, user_id, report.data["executionId"], trial)
    return trial


def _on_model(loaded: Any) -> Any:
    """The workflow file with every agent (sub-workflows' too) on the bench provider."""
    from dataclasses import replace

    agents = [
        spec.model_copy(update={"provider": PROVIDER_NAME, "model": None})
        for spec in loaded.workflow.agents
    ]
    return replace(
        loaded,
        workflow=loaded.workflow.model_copy(update={"agents": agents}),
        children={step: _on_model(child) for step, child in loaded.children.items()},
    )


def _add_step_runs(database: Any, user_id: str, execution_id: str, trial: WorkflowTrial) -> None:
    from accord.storage.repositories.executions import ExecutionRepository
    from accord.storage.repositories.step_runs import StepRunRepository

    modes: Counter[str] = Counter()
    with database.session() as session:
        executions = ExecutionRepository(session)
        family = [executions.get(execution_id, user_id=user_id)]
        for execution in family:
            family.extend(executions.children(execution.id))
        last_output = ""
        for execution in family:
            for run in StepRunRepository(session).list(execution.id):
                trial.validation_retries += run.validation_retries
                trial.tool_calls += run.tool_calls
                if run.output_mode:
                    modes[run.output_mode] += 1
                if execution.id == execution_id and run.status.value == "completed":
                    last_output = str((run.output or {}).get("output") or "")
    trial.output_modes = dict(modes)
    trial.deliverable_chars = len(last_output)


def print_table(trials: list[WorkflowTrial]) -> None:
    header = (
        f"{'workflow':<26} {'result':<10} {'modes':<18} {'calls':>5} {'retries':>7} "
        f"{'tools':>5} {'tokens in/out':>15} {'time':>7}  interactions"
    )
    print(header)
    print("-" * len(header))
    for t in trials:
        modes = ", ".join(f"{m} {n}" for m, n in sorted(t.output_modes.items())) or "-"
        kinds = ", ".join(f"{k.replace('_', ' ')} {n}" for k, n in t.interactions.items())
        result = "completed" if t.completed and t.deliverable_chars else t.status
        print(
            f"{t.workflow:<26} {result:<10} {modes:<18} {t.model_calls:>5} "
            f"{t.validation_retries:>7} {t.tool_calls:>5} "
            f"{f'{t.input_tokens:,}/{t.output_tokens:,}':>15} {t.seconds:>6.1f}s  {kinds or '-'}"
        )
        if t.error:
            print(f"    error: {t.error}")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--base-url", required=True, help="e.g. http://127.0.0.1:11434/v1")
    parser.add_argument("--model", required=True, help="the model name the server knows")
    parser.add_argument("--api-key", default=None)
    parser.add_argument(
        "--output-mode",
        default="auto",
        choices=["auto", "tool", "native", "prompted", "text"],
        help="the provider's outputMode (auto detects it)",
    )
    parser.add_argument("--max-tokens", type=int, default=None, help="provider maxTokens")
    parser.add_argument("--request-timeout", type=float, default=None, help="timeoutSeconds")
    parser.add_argument("--timeout", type=float, default=None, help="seconds per workflow")
    parser.add_argument("--example", action="append", type=Path, help="only these files")
    parser.add_argument("--json", action="store_true", help="one JSON object per workflow")
    args = parser.parse_args(argv)
    settings: dict[str, Any] = {"outputMode": args.output_mode}
    if args.max_tokens is not None:
        settings["maxTokens"] = args.max_tokens
    if args.request_timeout is not None:
        settings["timeoutSeconds"] = args.request_timeout
    trials = run_examples(
        base_url=args.base_url,
        model=args.model,
        api_key=args.api_key,
        settings=settings,
        examples=[p.resolve() for p in args.example] if args.example else None,
        timeout_s=args.timeout,
    )
    if args.json:
        for trial in trials:
            print(json.dumps(asdict(trial)))
    else:
        print_table(trials)
    return 0 if all(t.completed and t.deliverable_chars for t in trials) else 1


if __name__ == "__main__":
    sys.exit(main())
