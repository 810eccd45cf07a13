// The monitor's view of one execution, built from the REST snapshot and then kept current by
// applying each SSE event in order. Pure functions, so the live behaviour is tested without I/O.
import type { Execution, ExecutionEvent, ExecutionStatus, StepRun } from "../api/types";

export type StepStatus =
  | "waiting"
  | "running"
  | "retrying"
  | "completed"
  | "failed"
  | "skipped"
  | "cancelled";

export interface StepView {
  status: StepStatus;
  attempt: number;
  agentId: string | null;
  summary: string | null;
  error: string | null;
  reason: string | null;
}

export interface Progress {
  completed: number;
  skipped: number;
  failed: number;
  total: number;
}

export interface LiveExecution {
  status: ExecutionStatus;
  errorMessage: string | null;
  currentStepId: string | null;
  steps: Record<string, StepView>;
  progress: Progress;
  lastEventId: number;
  /** The status came from the event stream, which replays every change: trust it over a snapshot. */
  statusFromEvents: boolean;
}

const EMPTY_STEP: StepView = {
  status: "waiting",
  attempt: 0,
  agentId: null,
  summary: null,
  error: null,
  reason: null,
};

function stepFromRun(run: StepRun): StepView {
  const summary = typeof run.output?.summary === "string" ? run.output.summary : null;
  const status: StepStatus = run.status === "pending" ? "waiting" : run.status;
  // A skipped or cancelled run records why in `error`; it is a reason, not a fault.
  const ended = status === "skipped" || status === "cancelled";
  return {
    ...EMPTY_STEP,
    status,
    attempt: run.attempt,
    agentId: run.agentId,
    summary,
    error: ended ? null : run.error,
    reason: ended ? run.error : null,
  };
}

/** The latest attempt of each step, from the execution's `stepRuns`. */
export function latestRuns(runs: StepRun[]): Record<string, StepRun> {
  const latest: Record<string, StepRun> = {};
  for (const run of runs) {
    const seen = latest[run.stepId];
    if (!seen || run.attempt >= seen.attempt) latest[run.stepId] = run;
  }
  return latest;
}

export function countProgress(steps: Record<string, StepView>, total: number): Progress {
  const values = Object.values(steps);
  return {
    completed: values.filter((s) => s.status === "completed").length,
    skipped: values.filter((s) => s.status === "skipped").length,
    failed: values.filter((s) => s.status === "failed").length,
    total,
  };
}

export function fromSnapshot(execution: Execution, stepIds: string[]): LiveExecution {
  const steps: Record<string, StepView> = {};
  for (const id of stepIds) steps[id] = { ...EMPTY_STEP };
  for (const [id, run] of Object.entries(latestRuns(execution.stepRuns ?? []))) {
    steps[id] = stepFromRun(run);
  }
  return {
    status: execution.status,
    errorMessage: execution.errorMessage,
    currentStepId: execution.currentStepId,
    steps,
    progress: countProgress(steps, stepIds.length),
    lastEventId: 0,
    statusFromEvents: false,
  };
}

/**
 * A fresh snapshot (fetched for step outputs and usage) over the live state. Its answer may
 * have been read before events already applied, so it never moves a step back, and once the
 * stream has reported the status, the stream's word on it stands.
 */
export function mergeSnapshot(live: LiveExecution, fresh: LiveExecution): LiveExecution {
  const steps = { ...fresh.steps };
  for (const [id, view] of Object.entries(live.steps)) {
    const snap = steps[id];
    const newer = !snap || view.attempt > snap.attempt || (view.attempt === snap.attempt && RANK[view.status] > RANK[snap.status]);
    if (newer) steps[id] = view;
  }
  const status = live.statusFromEvents ? live : fresh;
  return {
    ...fresh,
    steps,
    status: status.status,
    errorMessage: status.errorMessage,
    progress: countProgress(steps, Math.max(fresh.progress.total, live.progress.total)),
    lastEventId: live.lastEventId,
    statusFromEvents: live.statusFromEvents,
  };
}

const text = (value: unknown): string | null => (typeof value === "string" ? value : null);
const num = (value: unknown, fallback: number): number =>
  typeof value === "number" ? value : fallback;

const RANK: Record<StepStatus, number> = {
  waiting: 0,
  running: 1,
  retrying: 2,
  completed: 3,
  failed: 3,
  skipped: 3,
  cancelled: 3,
};
const FINISHED: ReadonlySet<ExecutionStatus> = new Set(["completed", "failed", "cancelled"]);

/**
 * The state after one event. An execution's stream replays it from its first event, so an
 * event older than what the snapshot already shows (an earlier attempt, or an earlier stage
 * of the same attempt) changes nothing: the view never steps backwards. Repeats are ignored.
 */
export function applyEvent(state: LiveExecution, event: ExecutionEvent): LiveExecution {
  if (event.id <= state.lastEventId) return state;
  const next: LiveExecution = { ...state, lastEventId: event.id };
  const d = event.data;
  const stepId = event.stepId;
  const step = stepId ? (state.steps[stepId] ?? { ...EMPTY_STEP }) : undefined;
  const setStep = (changes: Partial<StepView> & { status: StepStatus }) => {
    if (!stepId || !step) return;
    const attempt = changes.attempt ?? step.attempt;
    const older = attempt < step.attempt || (attempt === step.attempt && RANK[changes.status] < RANK[step.status]);
    if (older) return;
    next.steps = { ...state.steps, [stepId]: { ...step, ...changes } };
    next.progress = countProgress(next.steps, Math.max(state.progress.total, Object.keys(next.steps).length));
  };

  switch (event.kind) {
    case "execution.status": {
      const status = text(d.status) as ExecutionStatus | null;
      // A finished execution never runs again ("run again" starts a new one).
      if (!status || (FINISHED.has(state.status) && !FINISHED.has(status))) return next;
      next.status = status;
      next.statusFromEvents = true;
      next.errorMessage = text(d.errorMessage) ?? (status === "failed" ? state.errorMessage : null);
      break;
    }
    case "execution.progress":
      // Counts come from the steps' own events; the total and the current step from here.
      next.progress = { ...state.progress, total: num(d.total, state.progress.total) };
      next.currentStepId = text(d.currentStepId);
      break;
    case "step.started":
      setStep({
        status: "running",
        attempt: num(d.attempt, step?.attempt ?? 1),
        agentId: text(d.agentId),
        reason: text(d.reason),
        error: null,
      });
      break;
    case "step.completed":
      setStep({
        status: "completed",
        attempt: num(d.attempt, step?.attempt ?? 1),
        agentId: text(d.agentId) ?? step?.agentId ?? null,
        summary: text(d.summary),
        error: null,
      });
      break;
    case "step.failed":
      setStep({
        status: d.willRetry ? "retrying" : "failed",
        attempt: num(d.attempt, step?.attempt ?? 1),
        agentId: text(d.agentId) ?? step?.agentId ?? null,
        error: text(d.error),
      });
      break;
    case "step.retrying":
      setStep({ status: "retrying", attempt: num(d.attempt, step?.attempt ?? 1), reason: text(d.reason) });
      break;
    case "step.skipped":
      setStep({ status: "skipped", reason: text(d.reason) });
      break;
    case "step.cancelled":
      setStep({ status: "cancelled", attempt: num(d.attempt, step?.attempt ?? 1), reason: text(d.reason) });
      break;
    default:
      return next;
  }
  return next;
}

export function percent(progress: Progress): number {
  if (progress.total === 0) return 0;
  return Math.round(((progress.completed + progress.skipped + progress.failed) / progress.total) * 100);
}
