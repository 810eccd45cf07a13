"""Reading workflow files from disk, with the sub-workflow files a recursive one names.

The format itself (and its validation) is `accord.domain.workflow_file`; this module adds the
file system: paths relative to the naming file, unreadable files and include cycles reported
with the line of the step that names them.
"""

from dataclasses import dataclass, field
from pathlib import Path

import yaml

from accord.domain.workflow_file import (
    FileProblem,
    WorkflowFile,
    WorkflowFileError,
    parse_workflow_file,
)


@dataclass(frozen=True)
class LoadedWorkflow:
    path: Path
    workflow: WorkflowFile
    children: dict[str, "LoadedWorkflow"] = field(default_factory=dict)
    """Step ID -> the sub-workflow that step runs."""

    def depth_first(self) -> list["LoadedWorkflow"]:
        """Children before parents: the order in which they must be created."""
        out: list[LoadedWorkflow] = []
        for child in self.children.values():
            out += child.depth_first()
        return [*out, self]


def load_workflow(path: Path, *, _including: tuple[Path, ...] = ()) -> LoadedWorkflow:
    """Load and validate a workflow file and, recursively, its sub-workflow files."""
    path = path.resolve()
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise WorkflowFileError(
            [
                FileProblem(
                    "", f"cannot read the file: {exc.strerror}", "check the path", source=str(path)
                )
            ]
        ) from None
    source = _display(path)
    workflow = parse_workflow_file(text, source=source)
    children: dict[str, LoadedWorkflow] = {}
    problems: list[FileProblem] = []
    for i, step in enumerate(workflow.steps):
        if step.sub_workflow is None:
            continue
        child_path = (path.parent / step.sub_workflow).resolve()
        line = _step_line(text, i)
        if child_path in (*_including, path):
            problems.append(
                FileProblem(
                    f"steps[{i}].subWorkflow",
                    f"{step.sub_workflow} includes this file again",
                    "a workflow cannot run itself; remove the cycle",
                    source=source,
                    line=line,
                )
            )
            continue
        if not child_path.is_file():
            problems.append(
                FileProblem(
                    f"steps[{i}].subWorkflow",
                    f"no workflow file at {step.sub_workflow!r}",
                    "give a path relative to this file",
                    source=source,
                    line=line,
                )
            )
            continue
        # A broken sub-workflow reports its own file and lines.
        children[step.id] = load_workflow(child_path, _including=(*_including, path))
    if problems:
        raise WorkflowFileError(problems)
    return LoadedWorkflow(path=path, workflow=workflow, children=children)


def _display(path: Path) -> str:
    try:
        return str(path.relative_to(Path.cwd()))
    except ValueError:
        return str(path)


def _step_line(text: str, index: int) -> int | None:
    root = yaml.compose(text, Loader=yaml.SafeLoader)
    for key, value in root.value:
        if key.value == "steps" and isinstance(value, yaml.SequenceNode):
            for subkey, subvalue in value.value[index].value:
                if subkey.value in ("subWorkflow", "sub_workflow"):
                    return subvalue.start_mark.line + 1
    return None
