// The HTTP API's JSON shapes under the names the UI uses, taken from the types generated from
// the server's OpenAPI document (`schema.ts`; regenerate with `./dev api-types`, a test fails
// when it is stale). Nothing here is written by hand but what the document cannot say.
import {
  interactionTypeValues,
  providerKindValues,
  stepTypeValues,
  templateCategoryValues,
  workflowTypeValues,
  type components,
} from "./schema";

type Schemas = components["schemas"];

export type WorkflowType = Schemas["WorkflowType"];
export type WorkflowStatus = Schemas["WorkflowStatus"];
export type StepType = Schemas["StepType"];
export type ExecutionStatus = Schemas["ExecutionStatus"];
export type StepRunStatus = Schemas["StepRunStatus"];
export type InteractionType = Schemas["InteractionType"];
export type KnowledgeType = Schemas["KnowledgeType"];
export type TemplateCategory = Schemas["TemplateCategory"];
export type ProviderKind = Schemas["ProviderKind"];
export type DecisionMaking = Schemas["DecisionMaking"];
export type ApprovalStatus = Schemas["ApprovalStatus"];
export type TokenScope = Schemas["Scope"];

export const WORKFLOW_TYPES = workflowTypeValues;
export const STEP_TYPES = stepTypeValues;
export const INTERACTION_TYPES = interactionTypeValues;
export const TEMPLATE_CATEGORIES = templateCategoryValues;
/** Offline first: the one kind that works without a key. */
export const PROVIDER_KINDS: readonly ProviderKind[] = [
  "offline",
  ...providerKindValues.filter((kind) => kind !== "offline"),
];

export type User = Schemas["User"];
export type LlmProvider = Schemas["LlmProvider"];
/** What the provider form sends; `apiKey` is write-only and never comes back. */
export type ProviderInput = Schemas["ProviderCreate"];
/** A saved MCP server; `env` and `headers` show their keys with masked values. */
export type McpServer = Schemas["SavedMcpServer"];
/** What the MCP server form sends; `env` and `headers` values are write-only. */
export type McpServerInput = Schemas["McpServerCreate"];
/** A file of an execution's workspace; `stepId`/`agentId` are null when not written by the toolkit. */
export type WorkspaceFile = Schemas["WorkspaceFile"];
export type Agent = Schemas["Agent"];
export type AgentInput = Schemas["AgentCreate"];

/** A step with every field, as the server answers it (and as the builder's new steps start). */
export type WorkflowStep = Schemas["WorkflowStep-Output"];
/** A configuration the builder edits: the request's, with complete steps and both sections
 * present (a limit left out takes the server's default). */
export type WorkflowConfiguration = Omit<
  Schemas["WorkflowConfiguration-Input"],
  "steps" | "coordination" | "constraints"
> & {
  steps: WorkflowStep[];
  coordination: Schemas["Coordination-Input"];
  constraints: Schemas["Constraints-Input"];
};
/** What the builder edits and sends, its type always chosen; a saved `Workflow` is one too. */
export type CreateWorkflowRequest = Omit<Schemas["CreateWorkflowRequest"], "configuration" | "workflowType"> & {
  workflowType: WorkflowType;
  configuration: WorkflowConfiguration;
};
export type Workflow = Schemas["CollaborationWorkflow"];

export type Usage = Schemas["Usage"];
export type StepRun = Schemas["StepRun"];
/** An execution with its step attempts (`GET /executions/{id}`). */
export type Execution = Schemas["ExecutionDetail"];
export type Deliverable = Schemas["Deliverable"];
export type ExecutionEvent = Schemas["ExecutionEvent"];
/** What an agent is writing right now (an SSE `text.delta` frame; never stored). See
 * docs/contracts.md "Live text". */
export type TextDelta = Schemas["TextDelta"];

/** A `tool.called` event's payload (docs/contracts.md), with the event's time. */
export type ToolCall = Schemas["ToolCalled"] & {
  /** When the call was recorded (the event's time). */
  at?: string;
};

export type Interaction = Schemas["AgentInteraction"];
/** A tool call waiting for (or given) the user's approval (`GET /approvals`). */
export type ToolApproval = Schemas["ToolApproval"];
export type Knowledge = Schemas["CollaborationKnowledge"];
export type AgentFigures = Schemas["AgentFigures"];
export type Metrics = Schemas["CollaborationMetrics"];
/** What a score was computed from: its counts and formula, and the rows left out of it. */
export type ScoreEvidence = Schemas["ScoreEvidence"];
export type MetricsEvidence = Schemas["MetricsEvidence"];
export type Template = Schemas["WorkflowTemplate"];
export type Problem = Schemas["ErrorProblem"];
export type ApiToken = Schemas["ApiToken"];
/** A new token, with its secret shown this once. */
export type TokenCreated = Schemas["TokenCreated"];
export type BrowserSession = Schemas["SessionInfo"];
