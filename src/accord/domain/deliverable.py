"""An execution's deliverable: what the team hands over at the end, as markdown.

It is the result of the execution's last steps: the completed steps that no other completed
step builds on. In a pipeline that is the last step; in a parallel workflow, the steps the
DAG ends with; in a conditional one, the end of the branch that ran (a skipped branch leaves
no result, so the step before it counts as last). Computed once, when the execution
completes, and stored, so that listing executions never recomputes it.
"""

import json
from collections.abc import Mapping, Sequence
from typing import Any

from pydantic import Field

from accord.domain.base import CamelModel


class Deliverable(CamelModel):
    markdown: str
    step_ids: list[str] = Field(default_factory=list)
    """The steps whose results make it up, in plan order."""


def last_completed_steps(
    order: Sequence[str], deps: Mapping[str, Sequence[str]], completed: set[str]
) -> tuple[str, ...]:
    """The completed steps (in `order`) on which no other completed step depends."""
    built_on = {d for step in completed for d in deps.get(step, ())}
    return tuple(s for s in order if s in completed and s not in built_on)


def build_deliverable(
    steps: Sequence[tuple[str, str, Mapping[str, Any] | None]],
) -> Deliverable | None:
    """The deliverable of `(step ID, step name, result)` for each last step; None when there
    is no result to hand over. One step's output stands alone; several get a section each."""
    parts = [(step_id, name, _body(result)) for step_id, name, result in steps if result]
    parts = [(step_id, name, body) for step_id, name, body in parts if body]
    if not parts:
        return None
    if len(parts) == 1:
        markdown = parts[0][2]
    else:
        markdown = "\n\n".join(f"## {name}\n\n{body}" for _, name, body in parts)
    return Deliverable(markdown=markdown.strip() + "\n", step_ids=[p[0] for p in parts])


def _body(result: Mapping[str, Any]) -> str:
    """A step result's deliverable text: its `output` (markdown by the result schema), else
    its summary; anything else is shown as JSON rather than lost."""
    output = result.get("output")
    if isinstance(output, str):
        if output.strip():
            return output.strip()
    elif output not in (None, {}, []):
        return "```json\n" + json.dumps(output, indent=2, ensure_ascii=False) + "\n```"
    summary = result.get("summary")
    return summary.strip() if isinstance(summary, str) else ""
