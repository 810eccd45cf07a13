"""Every closed set of the spec, as string enums (their values are the spec's literals)."""

from enum import StrEnum


class WorkflowType(StrEnum):
    PIPELINE = "pipeline"
    PARALLEL = "parallel"
    CONDITIONAL = "conditional"
    RECURSIVE = "recursive"


class WorkflowStatus(StrEnum):
    DRAFT = "draft"
    ACTIVE = "active"
    PAUSED = "paused"
    COMPLETED = "completed"
    FAILED = "failed"


class StepType(StrEnum):
    ANALYSIS = "analysis"
    IMPLEMENTATION = "implementation"
    REVIEW = "review"
    TESTING = "testing"
    DOCUMENTATION = "documentation"
    COORDINATION = "coordination"
    DECISION = "decision"


class TriggerReason(StrEnum):
    MANUAL = "manual"
    SCHEDULED = "scheduled"
    EVENT = "event"
    DEPENDENCY = "dependency"


class ExecutionStatus(StrEnum):
    PENDING = "pending"
    RUNNING = "running"
    PAUSED = "paused"
    COMPLETED = "completed"
    FAILED = "failed"
    CANCELLED = "cancelled"


class StepRunStatus(StrEnum):
    """One step attempt's state (extension: the `step_runs` table)."""

    PENDING = "pending"
    RUNNING = "running"
    COMPLETED = "completed"
    FAILED = "failed"
    SKIPPED = "skipped"
    CANCELLED = "cancelled"


class InteractionType(StrEnum):
    TASK_DELEGATION = "task_delegation"
    KNOWLEDGE_SHARING = "knowledge_sharing"
    COORDINATION = "coordination"
    FEEDBACK = "feedback"
    QUESTION = "question"


class KnowledgeType(StrEnum):
    INSIGHT = "insight"
    DECISION = "decision"
    RESOURCE = "resource"
    CONSTRAINT = "constraint"
    BEST_PRACTICE = "best_practice"


class KnowledgeStatus(StrEnum):
    """Whether anyone checked a knowledge entry: a teammate validated it or a review approved
    the step that wrote it (validated), a review sent that step back (rejected), or neither
    (unvalidated). Search ranks validated entries first and rejected ones last."""

    UNVALIDATED = "unvalidated"
    VALIDATED = "validated"
    REJECTED = "rejected"


class TemplateCategory(StrEnum):
    DEVELOPMENT = "development"
    REVIEW = "review"
    ANALYSIS = "analysis"
    RESEARCH = "research"
    TESTING = "testing"


class CommunicationStyle(StrEnum):
    FORMAL = "formal"
    CASUAL = "casual"
    TECHNICAL = "technical"


class DecisionMaking(StrEnum):
    CONSENSUS = "consensus"
    COORDINATOR = "coordinator"
    MAJORITY = "majority"


class ConsensusFallback(StrEnum):
    """What a consensus that never converges falls back to (extension)."""

    COORDINATOR = "coordinator"
    MAJORITY = "majority"
    FAIL = "fail"


class ProviderKind(StrEnum):
    OPENAI = "openai"
    OPENAI_COMPATIBLE = "openai_compatible"
    ANTHROPIC = "anthropic"
    OFFLINE = "offline"


class QuestionStatus(StrEnum):
    """Where a question stands (extension column `agent_interactions.response_status`)."""

    PENDING = "pending"
    ANSWERED = "answered"
    EXPIRED = "expired"


class ApprovalStatus(StrEnum):
    """Where a tool call waiting for a user's approval stands (`tool_approvals.status`)."""

    PENDING = "pending"
    APPROVED = "approved"
    REJECTED = "rejected"
    EXPIRED = "expired"
    """No decision before the deadline (the workflow's timeout outcome applies), or the
    attempt that asked ended first."""
