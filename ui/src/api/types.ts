// The HTTP API's JSON shapes (camelCase), mirroring src/accord/domain. See docs/contracts.md.

export type WorkflowType = "pipeline" | "parallel" | "conditional" | "recursive";
export type WorkflowStatus = "draft" | "active" | "paused" | "completed" | "failed";
export type StepType =
  | "analysis"
  | "implementation"
  | "review"
  | "testing"
  | "documentation"
  | "coordination"
  | "decision";
export type ExecutionStatus =
  | "pending"
  | "running"
  | "paused"
  | "completed"
  | "failed"
  | "cancelled";
export type StepRunStatus = "pending" | "running" | "completed" | "failed" | "skipped" | "cancelled";
export type InteractionType =
  | "task_delegation"
  | "knowledge_sharing"
  | "coordination"
  | "feedback"
  | "question";
export type KnowledgeType = "insight" | "decision" | "resource" | "constraint" | "best_practice";
export type TemplateCategory = "development" | "review" | "analysis" | "research" | "testing";
export type ProviderKind = "openai" | "openai_compatible" | "anthropic" | "offline";
export type DecisionMaking = "consensus" | "coordinator" | "majority";

export const WORKFLOW_TYPES: WorkflowType[] = ["pipeline", "parallel", "conditional", "recursive"];
export const STEP_TYPES: StepType[] = [
  "analysis",
  "implementation",
  "review",
  "testing",
  "documentation",
  "coordination",
  "decision",
];
export const INTERACTION_TYPES: InteractionType[] = [
  "task_delegation",
  "knowledge_sharing",
  "coordination",
  "feedback",
  "question",
];
export const TEMPLATE_CATEGORIES: TemplateCategory[] = [
  "development",
  "review",
  "analysis",
  "research",
  "testing",
];
export const PROVIDER_KINDS: ProviderKind[] = ["offline", "openai", "openai_compatible", "anthropic"];

export interface User {
  id: string;
  email: string;
  displayName: string;
}

export interface LlmProvider {
  id: string;
  name: string;
  kind: ProviderKind;
  baseUrl: string | null;
  defaultModel: string;
  hasApiKey: boolean;
  settings: Record<string, unknown>;
  createdAt: string;
  updatedAt: string;
}

/** What the provider form sends; `apiKey` is write-only and never comes back. */
export interface ProviderInput {
  name: string;
  kind: ProviderKind;
  baseUrl: string | null;
  defaultModel: string;
  apiKey?: string;
  settings?: Record<string, unknown>;
}

/** A saved MCP server; `env` and `headers` show their keys with masked values. */
export interface McpServer {
  id: string;
  name: string;
  transport: "stdio" | "http";
  command: string | null;
  args: string[];
  env: Record<string, string>;
  cwd: string | null;
  url: string | null;
  headers: Record<string, string>;
  requireApproval: boolean;
  createdAt: string;
  updatedAt: string;
}

/** What the MCP server form sends; `env` and `headers` values are write-only. */
export interface McpServerInput {
  name: string;
  command?: string | null;
  args?: string[];
  cwd?: string | null;
  url?: string | null;
  env?: Record<string, string>;
  headers?: Record<string, string>;
  requireApproval: boolean;
}

/** A file of an execution's workspace; `stepId`/`agentId` are null when not written by the toolkit. */
export interface WorkspaceFile {
  path: string;
  size: number;
  stepId: string | null;
  attempt: number | null;
  agentId: string | null;
  agentName: string | null;
  modifiedAt: string;
}

export interface Agent {
  id: string;
  name: string;
  role: string;
  backstory: string;
  skills: string[];
  llmProviderId: string | null;
  model: string | null;
  modelParameters: Record<string, unknown>;
  createdAt: string;
  updatedAt: string;
}

export interface AgentInput {
  name: string;
  role: string;
  backstory: string;
  skills: string[];
  llmProviderId: string | null;
  model: string | null;
}

export interface WorkflowStep {
  id: string;
  name: string;
  description: string;
  type: StepType;
  assignedAgentRole?: string | null;
  preferredAgentId?: string | null;
  requiredSkills: string[];
  dependsOn: string[];
  canRunInParallel?: boolean;
  instructions: string;
  expectedOutput: string;
  timeoutMinutes?: number | null;
  validationCriteria: string[];
  reviewRequired: boolean;
  reviewerRole?: string | null;
  condition?: string | null;
  maxRetries?: number | null;
  decisionOptions?: string[];
  subWorkflowId?: string | null;
}

export interface Coordination {
  communicationStyle: "formal" | "casual" | "technical";
  decisionMaking: DecisionMaking;
  knowledgeSharing: boolean;
  [key: string]: unknown;
}

export interface Constraints {
  maxExecutionTime?: number | null;
  maxRetries?: number | null;
  allowParallelExecution?: boolean | null;
  maxConcurrency?: number;
  budgetTokens?: number | null;
  budgetUsd?: number | null;
  [key: string]: unknown;
}

export interface WorkflowConfiguration {
  steps: WorkflowStep[];
  coordination: Coordination;
  constraints: Constraints;
}

export interface CreateWorkflowRequest {
  name: string;
  description: string;
  workflowType: WorkflowType;
  participatingAgents: string[];
  coordinatorAgentId: string | null;
  configuration: WorkflowConfiguration;
}

export interface Workflow extends CreateWorkflowRequest {
  id: string;
  status: WorkflowStatus;
  currentStep: number;
  totalSteps: number;
  startedAt: string | null;
  completedAt: string | null;
  templateId: string | null;
  createdAt: string;
  updatedAt: string;
}

export interface Usage {
  inputTokens: number;
  outputTokens: number;
  costUsd: number;
  modelCalls: number;
}

export interface StepRun {
  id: string;
  executionId: string;
  stepId: string;
  attempt: number;
  status: StepRunStatus;
  agentId: string | null;
  startedAt: string | null;
  finishedAt: string | null;
  output: Record<string, unknown> | null;
  error: string | null;
  feedback: string | null;
  inputTokens: number;
  outputTokens: number;
  costUsd: number;
  modelCalls: number;
  /** Tool calls the models made during the attempt. */
  toolCalls?: number;
  /** Set when a retry kept this result instead of running the step again: the execution that
   * ran it (its tokens and cost are counted there, so they are zero here). */
  reusedFrom?: string | null;
}

export interface Execution {
  id: string;
  workflowId: string;
  executionNumber: number;
  triggerReason: string;
  currentStepId: string | null;
  stepResults: Record<string, unknown>;
  activeAgents: string[];
  agentAssignments: Record<string, string>;
  status: ExecutionStatus;
  errorMessage: string | null;
  finalOutput: unknown;
  startedAt: string;
  completedAt: string | null;
  updatedAt: string;
  parentExecutionId: string | null;
  depth: number;
  definition: Record<string, unknown>;
  usage: Usage;
  stepRuns?: StepRun[];
  /** The execution's inputs (what Start was given; a child's parent inputs). */
  executionContext?: Record<string, unknown>;
  /** Once finished: the markdown a user came for, and the steps it was taken from. */
  deliverable?: Deliverable | null;
  /** The failed or cancelled execution this one retries (its completed results were kept). */
  retryOf?: string | null;
}

export interface Deliverable {
  markdown: string;
  stepIds: string[];
}

/** A `tool.called` event's payload (docs/contracts.md). */
export interface ToolCall {
  stepId: string;
  attempt: number;
  agentId: string;
  agentName: string;
  server: string;
  tool: string;
  arguments: unknown;
  resultExcerpt: string | null;
  durationMs: number;
  error: string | null;
  /** When the call was recorded (the event's time). */
  at?: string;
}

/** A file the team wrote into the execution's workspace. */
export interface ExecutionEvent {
  id: number;
  executionId: string;
  kind: string;
  stepId: string | null;
  data: Record<string, unknown>;
  createdAt: string;
}

/** What an agent is writing right now (an SSE `text.delta` frame; never stored). See
 * docs/contracts.md "Live text". */
export interface TextDelta {
  kind: "text.delta";
  executionId: string;
  userId: string;
  stepId: string;
  attempt: number;
  agentId: string;
  agentName: string;
  call: number;
  part: "text" | "tool_call";
  tool: string | null;
  offset: number;
  text: string;
}

export interface Interaction {
  id: string;
  workflowExecutionId: string;
  fromAgentId: string;
  toAgentId: string | null;
  interactionType: InteractionType;
  message: string;
  contextData: Record<string, unknown> | null;
  relatedStepId: string | null;
  requiresResponse: boolean;
  responseDeadline: string | null;
  responseReceived: boolean;
  responseMessage: string | null;
  responseData: unknown;
  createdAt: string;
  respondedAt: string | null;
  toUserId: string | null;
  responseStatus: "pending" | "answered" | "expired" | null;
}

export type ApprovalStatus = "pending" | "approved" | "rejected" | "expired";

/** A tool call waiting for (or given) the user's approval (`GET /approvals`). */
export interface ToolApproval {
  id: string;
  executionId: string;
  stepId: string;
  attempt: number;
  agentId: string | null;
  agentName: string | null;
  server: string;
  tool: string;
  /** As the agent gave them, secrets redacted. */
  arguments: Record<string, unknown>;
  status: ApprovalStatus;
  reason: string | null;
  decidedBy: string | null;
  deadlineAt: string | null;
  onTimeout: "approve" | "reject";
  createdAt: string;
  decidedAt: string | null;
}

export interface Knowledge {
  id: string;
  workflowId: string;
  title: string;
  content: string;
  knowledgeType: KnowledgeType;
  createdByAgentId: string;
  validatedByAgents: string[];
  relevanceScore: number;
  usageCount: number;
  tags: string[];
  isActive: boolean;
  supersededBy: string | null;
  createdAt: string;
  updatedAt: string;
  subject: string | null;
  executionId: string | null;
  sourceStepId: string | null;
  status: "validated" | "unvalidated" | "rejected";
}

export interface AgentFigures {
  agentId: string;
  agentName: string | null;
  steps: number;
  approvals: number;
  rejections: number;
  inputTokens: number;
  outputTokens: number;
  costUsd: number;
}

export interface Metrics {
  totalInteractions: number;
  averageResponseTime: number;
  knowledgeItemsCreated: number;
  collaborationScore: number;
  efficiencyRating: number;
  qualityScore: number;
  agents: AgentFigures[];
  evidence: MetricsEvidence;
}

/** What a score was computed from: its counts and formula, and the rows left out of it. */
export interface ScoreEvidence {
  counts: Record<string, number>;
  formula: string;
  notCounted: Record<string, number>;
}

export interface MetricsEvidence {
  collaboration: ScoreEvidence;
  efficiency: ScoreEvidence;
  quality: ScoreEvidence;
  executions: number;
}

export interface Template {
  id: string;
  name: string;
  description: string;
  category: TemplateCategory;
  templateDefinition: WorkflowConfiguration;
  requiredAgentRoles: string[];
  recommendedAgentCount: number;
  isSystemTemplate: boolean;
  usageCount: number;
  successRate: number;
  workflowType: WorkflowType;
}

export interface Problem {
  field: string;
  message: string;
  fix: string;
}
