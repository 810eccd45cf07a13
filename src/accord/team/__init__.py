"""The team: how agents collaborate on a step, and what the other layers ask of it.

The names below are what the engine, the server, the CLI and the library use; the modules
behind them are the team's own. Run a step: `AgentTeam` (and `AgentModel` / `ModelSource`,
the model each agent thinks with; `provider_models` for saved providers). Read what a team
did: `ExecutionOutcome`, `read_outcome`, `ExecutionReport` and the report builders,
`TeamRecords`, `KnowledgeBase`, the metrics. Workflow files and templates: `load_workflow`,
`install_workflow`, the template functions. The local database of the CLI and the library:
`open_database`, `local_user_id`.

Importing `accord.team` is cheap: each name loads its module when first used, so a command
that needs one name (`accord users`, say) does not pay for the agent runtime.
"""

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from accord.team.attempt import AgentModel, ModelSource
    from accord.team.knowledge import KnowledgeBase
    from accord.team.local import local_user_id, open_database
    from accord.team.metrics import execution_metrics, record_finished_execution, workflow_metrics
    from accord.team.models import provider_models
    from accord.team.outcome import ExecutionOutcome, read_outcome, unfinished_execution
    from accord.team.records import TeamRecords
    from accord.team.report import (
        ExecutionReport,
        ReportFormat,
        build_report,
        report_json,
        report_markdown,
        report_zip,
        workspace_contents,
    )
    from accord.team.runtime import AgentTeam
    from accord.team.templates import (
        create_workflow_from_template,
        install_system_templates,
        save_workflow_as_template,
    )
    from accord.team.workflow_files import LoadedWorkflow, install_workflow, load_workflow

__all__ = [
    "AgentModel",
    "AgentTeam",
    "ExecutionOutcome",
    "ExecutionReport",
    "KnowledgeBase",
    "LoadedWorkflow",
    "ModelSource",
    "ReportFormat",
    "TeamRecords",
    "build_report",
    "create_workflow_from_template",
    "execution_metrics",
    "install_system_templates",
    "install_workflow",
    "load_workflow",
    "local_user_id",
    "open_database",
    "provider_models",
    "read_outcome",
    "record_finished_execution",
    "report_json",
    "report_markdown",
    "report_zip",
    "save_workflow_as_template",
    "unfinished_execution",
    "workflow_metrics",
    "workspace_contents",
]

# Where each name lives: loaded on first use (see the module's docstring).
_MODULE_OF = {
    "AgentModel": "attempt",
    "ModelSource": "attempt",
    "KnowledgeBase": "knowledge",
    "local_user_id": "local",
    "open_database": "local",
    "execution_metrics": "metrics",
    "record_finished_execution": "metrics",
    "workflow_metrics": "metrics",
    "provider_models": "models",
    "ExecutionOutcome": "outcome",
    "read_outcome": "outcome",
    "unfinished_execution": "outcome",
    "TeamRecords": "records",
    "ExecutionReport": "report",
    "ReportFormat": "report",
    "build_report": "report",
    "report_json": "report",
    "report_markdown": "report",
    "report_zip": "report",
    "workspace_contents": "report",
    "AgentTeam": "runtime",
    "create_workflow_from_template": "templates",
    "install_system_templates": "templates",
    "save_workflow_as_template": "templates",
    "LoadedWorkflow": "workflow_files",
    "install_workflow": "workflow_files",
    "load_workflow": "workflow_files",
}


def __getattr__(name: str) -> Any:
    try:
        module = _MODULE_OF[name]
    except KeyError:
        raise AttributeError(f"module 'accord.team' has no attribute {name!r}") from None
    from importlib import import_module

    value = getattr(import_module(f"accord.team.{module}"), name)
    globals()[name] = value  # found once; later lookups skip this function
    return value


def __dir__() -> list[str]:
    return sorted(__all__)
