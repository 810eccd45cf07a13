"""Workflow templates: system templates (no owner, visible to all, read-only) and users' own.

A template names roles, not agents, so it is validated by compiling its definition against a
synthetic team: one stand-in agent per required role, padded with more of them up to the
recommended count. Everything that does not depend on real agents is checked exactly as for
a workflow (duplicate IDs, unknown dependencies, cycles, reviewer roles, conditions, limits).
"""

from __future__ import annotations

import builtins  # `builtins.list` in annotations: the class's `list` method shadows it
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import Row, and_, delete, func, insert, or_, select, update
from sqlalchemy.orm import Session

from accord.domain.agent import Agent, same_name
from accord.domain.enums import ExecutionStatus, TemplateCategory, WorkflowType
from accord.domain.errors import Conflict, InvalidDefinition, NotFound, Problem
from accord.domain.plan import compile_workflow
from accord.domain.template import CreateTemplateRequest, WorkflowTemplate
from accord.domain.workflow import WorkflowConfiguration
from accord.storage.repositories._convert import to_datetime
from accord.storage.repositories._names import check_name_free
from accord.storage.tables import (
    collaboration_workflows,
    epoch_now,
    new_id,
    workflow_executions,
    workflow_templates,
)

tpl = workflow_templates
_FINISHED = (
    ExecutionStatus.COMPLETED.value,
    ExecutionStatus.FAILED.value,
    ExecutionStatus.CANCELLED.value,
)


def _template(row: Row[Any]) -> WorkflowTemplate:
    return WorkflowTemplate(
        id=row.id,
        name=row.name,
        description=row.description,
        category=TemplateCategory(row.category),
        template_definition=WorkflowConfiguration.model_validate(row.template_definition),
        required_agent_roles=row.required_agent_roles,
        recommended_agent_count=row.recommended_agent_count or 0,
        is_system_template=bool(row.is_system_template),
        created_by_user_id=row.created_by_user_id,
        usage_count=row.usage_count or 0,
        success_rate=row.success_rate or 0.0,
        workflow_type=WorkflowType(row.workflow_type),
        system_key=row.system_key,
        created_at=to_datetime(row.created_at),
        updated_at=to_datetime(row.updated_at),
    )


def validate_template(request: CreateTemplateRequest) -> None:
    """Raise InvalidDefinition (fields under `templateDefinition`) if the template cannot run."""
    roles = list(dict.fromkeys(r.strip() for r in request.required_agent_roles if r.strip()))
    team_roles = roles or ["agent"]
    size = max(len(team_roles), request.recommended_agent_count)
    epoch = datetime.fromtimestamp(0, tz=UTC)
    stand_ins = {
        f"role:{i}": Agent(
            id=f"role:{i}",
            user_id="",
            name=f"stand-in {i}",
            role=team_roles[i % len(team_roles)],
            created_at=epoch,
            updated_at=epoch,
        )
        for i in range(size)
    }
    try:
        compile_workflow(
            workflow_type=request.workflow_type,
            configuration=request.template_definition,
            participating_agents=list(stand_ins),
            coordinator_agent_id=None,
            owned_agents=stand_ins,
        )
    except InvalidDefinition as exc:
        raise InvalidDefinition(
            [
                Problem(p.field.replace("configuration", "templateDefinition", 1), p.message, p.fix)
                for p in exc.problems
            ]
        ) from None


class TemplateRepository:
    def __init__(self, session: Session) -> None:
        self.session = session

    def create(
        self, request: CreateTemplateRequest, *, user_id: str | None, system_key: str | None = None
    ) -> WorkflowTemplate:
        """A user's template, or a system template when `user_id` is None (installed once per
        `system_key`: see `find_by_system_key`). A user's template may not take the name of
        another template the user sees, theirs or a system one (ignoring case): Conflict."""
        validate_template(request)
        if user_id is not None:
            self._check_name_free(request.name, user_id)
        now = epoch_now()
        row = self.session.execute(
            insert(tpl)
            .values(
                id=new_id(),
                created_by_user_id=user_id,
                is_system_template=user_id is None,
                system_key=system_key,
                usage_count=0,
                success_rate=0.0,
                created_at=now,
                updated_at=now,
                **self._definition(request),
            )
            .returning(tpl)
        ).one()
        return _template(row)

    def get(self, template_id: str, *, user_id: str) -> WorkflowTemplate:
        """A system template or one of the user's own."""
        row = self.session.execute(
            select(tpl).where(tpl.c.id == template_id, self._visible_to(user_id))
        ).one_or_none()
        if row is None:
            raise NotFound("template", template_id)
        return _template(row)

    def list(
        self, *, user_id: str, category: TemplateCategory | None = None
    ) -> builtins.list[WorkflowTemplate]:
        """System templates and the user's own, most used first."""
        query = select(tpl).where(self._visible_to(user_id))
        if category is not None:
            query = query.where(tpl.c.category == TemplateCategory(category).value)
        rows = self.session.execute(
            query.order_by(
                tpl.c.usage_count.desc(), tpl.c.is_system_template.desc(), tpl.c.name, tpl.c.id
            )
        )
        return [_template(r) for r in rows]

    def find_by_system_key(self, system_key: str) -> WorkflowTemplate | None:
        row = self.session.execute(select(tpl).where(tpl.c.system_key == system_key)).one_or_none()
        return None if row is None else _template(row)

    def update(
        self, template_id: str, *, user_id: str, request: CreateTemplateRequest
    ) -> WorkflowTemplate:
        """Replace the definition of one of the user's templates (system ones are read-only);
        a new name must be free (see `create`)."""
        current = self._owned(template_id, user_id)
        validate_template(request)
        if not same_name(request.name, current.name):
            self._check_name_free(request.name, user_id, own_id=template_id)
        row = self.session.execute(
            update(tpl)
            .where(tpl.c.id == template_id)
            .values(updated_at=epoch_now(), **self._definition(request))
            .returning(tpl)
        ).one()
        return _template(row)

    def delete(self, template_id: str, *, user_id: str) -> None:
        """Workflows made from it stay; they just forget the template (FK SET NULL)."""
        self._owned(template_id, user_id)
        self.session.execute(delete(tpl).where(tpl.c.id == template_id))

    def record_use(self, template_id: str) -> None:
        """A workflow was created from the template."""
        self.session.execute(
            update(tpl)
            .where(tpl.c.id == template_id)
            .values(usage_count=func.coalesce(tpl.c.usage_count, 0) + 1, updated_at=epoch_now())
        )

    def refresh_success_rate(self, template_id: str) -> float:
        """Recompute `success_rate` (percent, 0-100) from the finished top-level executions of
        the workflows made from the template: completed / (completed + failed + cancelled)."""
        finished = (
            select(
                func.count().label("finished"),
                func.count()
                .filter(workflow_executions.c.status == ExecutionStatus.COMPLETED.value)
                .label("completed"),
            )
            .select_from(
                workflow_executions.join(
                    collaboration_workflows,
                    collaboration_workflows.c.id == workflow_executions.c.workflow_id,
                )
            )
            .where(
                and_(
                    collaboration_workflows.c.template_id == template_id,
                    workflow_executions.c.status.in_(_FINISHED),
                    workflow_executions.c.parent_execution_id.is_(None),
                )
            )
        )
        counts = self.session.execute(finished).one()
        rate = 100.0 * counts.completed / counts.finished if counts.finished else 0.0
        self.session.execute(
            update(tpl)
            .where(tpl.c.id == template_id)
            .values(success_rate=rate, updated_at=epoch_now())
        )
        return rate

    @staticmethod
    def _visible_to(user_id: str) -> Any:
        return or_(tpl.c.is_system_template.is_(True), tpl.c.created_by_user_id == user_id)

    @staticmethod
    def _definition(request: CreateTemplateRequest) -> dict[str, Any]:
        return {
            "name": request.name,
            "description": request.description,
            "category": request.category.value,
            "workflow_type": request.workflow_type.value,
            "template_definition": request.template_definition.to_json_dict(),
            "required_agent_roles": list(request.required_agent_roles),
            "recommended_agent_count": request.recommended_agent_count,
        }

    def free_name(self, base: str, *, user_id: str) -> str:
        """`base`, or `base (2)`, `base (3)`...: the first no template the user sees has."""
        taken = [
            r.name
            for r in self.session.execute(select(tpl.c.name).where(self._visible_to(user_id)))
        ]
        candidates = (base if n == 1 else f"{base} ({n})" for n in range(1, len(taken) + 2))
        return next(c for c in candidates if not any(same_name(c, t) for t in taken))

    def _check_name_free(self, name: str, user_id: str, *, own_id: str | None = None) -> None:
        check_name_free(
            self.session,
            select(tpl.c.id, tpl.c.name).where(self._visible_to(user_id)),
            kind="template",
            name=name,
            own_id=own_id,
        )

    def _owned(self, template_id: str, user_id: str) -> WorkflowTemplate:
        template = self.get(template_id, user_id=user_id)
        if template.is_system_template:
            raise Conflict(
                f"template {template_id!r} is a system template and cannot be changed; "
                "save a copy as your own template instead",
                details={"id": template_id},
            )
        return template
