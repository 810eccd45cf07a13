import { describe, expect, it } from "vitest";
import type { Execution, ExecutionEvent, StepRun } from "../api/types";
import { applyEvent, fromSnapshot, mergeSnapshot, percent } from "./liveState";

const run = (stepId: string, attempt: number, status: StepRun["status"], output: Record<string, unknown> | null = null): StepRun => ({
  id: `${stepId}-${attempt}`, executionId: "e1", stepId, attempt, status, agentId: "a1", startedAt: null, finishedAt: null,
  output, error: null, feedback: null, inputTokens: 0, outputTokens: 0, costUsd: 0, modelCalls: 0, outputMode: null,
  validationRetries: 0, toolCalls: 0, toolSeconds: 0, executorId: null, reusedFrom: null,
});
const execution = (stepRuns: StepRun[]): Execution => ({
  id: "e1", workflowId: "w1", executionNumber: 1, triggerReason: "manual", currentStepId: null, stepResults: {},
  activeAgents: [], agentAssignments: {}, status: "running", errorMessage: null, finalOutput: null,
  startedAt: "", completedAt: null, updatedAt: "", parentExecutionId: null, depth: 0, definition: {},
  triggeredBy: null, executionContext: {}, parentStepId: null, estimatedDuration: null, actualDuration: null,
  deliverable: null, retryOf: null,
  usage: { inputTokens: 0, outputTokens: 0, costUsd: 0, modelCalls: 0, toolCalls: 0, toolSeconds: 0 }, stepRuns,
});
let id = 0;
const event = (kind: string, stepId: string | null, data: Record<string, unknown> = {}): ExecutionEvent => ({
  id: ++id, executionId: "e1", userId: "u1", kind, stepId, data, createdAt: "",
});

describe("live execution state", () => {
  it("starts from the latest attempt of each step", () => {
    const state = fromSnapshot(
      execution([run("a", 1, "failed"), run("a", 2, "completed", { summary: "done" }), run("b", 1, "running")]),
      ["a", "b", "c"],
    );
    expect(state.steps.a).toMatchObject({ status: "completed", attempt: 2, summary: "done" });
    expect(state.steps.b.status).toBe("running");
    expect(state.steps.c.status).toBe("waiting");
    expect(state.progress).toEqual({ completed: 1, skipped: 0, failed: 0, total: 3 });
  });

  it("follows the events of a run to its end, ignoring repeats", () => {
    let s = fromSnapshot(execution([]), ["a", "b", "c"]);
    const started = event("step.started", "a", { attempt: 1, agentId: "ada" });
    s = applyEvent(s, started);
    expect(s.steps.a).toMatchObject({ status: "running", agentId: "ada" });
    s = applyEvent(s, event("step.failed", "a", { attempt: 1, agentId: "ada", error: "timeout", willRetry: true }));
    expect(s.steps.a).toMatchObject({ status: "retrying", error: "timeout" });
    s = applyEvent(s, event("step.started", "a", { attempt: 2, agentId: "ada" }));
    s = applyEvent(s, event("step.completed", "a", { attempt: 2, agentId: "ada", summary: "built it" }));
    expect(s.steps.a).toMatchObject({ status: "completed", attempt: 2, summary: "built it", error: null });
    s = applyEvent(s, event("step.skipped", "b", { reason: "condition false" }));
    s = applyEvent(s, event("step.failed", "c", { error: "boom", willRetry: false }));
    expect(s.progress).toEqual({ completed: 1, skipped: 1, failed: 1, total: 3 });
    expect(percent(s.progress)).toBe(100);
    s = applyEvent(s, event("execution.status", null, { status: "failed", previous: "running", errorMessage: "step c failed" }));
    expect(s).toMatchObject({ status: "failed", errorMessage: "step c failed" });

    s = applyEvent(s, event("step.started", "d", { attempt: 1, agentId: "ada" }));
    s = applyEvent(s, event("step.cancelled", "d", { attempt: 1, reason: "cancelled by the user" }));
    expect(s.steps.d).toMatchObject({ status: "cancelled", reason: "cancelled by the user" });

    // A replayed event (SSE reconnect) changes nothing.
    expect(applyEvent(s, started)).toBe(s);
  });

  it("never steps backwards when the stream replays a run the snapshot already shows", () => {
    const snapshot = { ...execution([run("a", 2, "completed", { summary: "second try" }), run("b", 1, "completed")]), status: "completed" as const };
    let s = fromSnapshot(snapshot, ["a", "b"]);
    const replay = [
      event("execution.status", null, { status: "running", previous: "pending" }),
      event("step.started", "a", { attempt: 1, agentId: "ada" }),
      event("step.failed", "a", { attempt: 1, error: "timeout", willRetry: true }),
      event("step.started", "a", { attempt: 2, agentId: "ada" }),
      event("step.completed", "a", { attempt: 2, agentId: "ada", summary: "second try" }),
      event("step.started", "b", { attempt: 1, agentId: "grace" }),
    ];
    for (const e of replay) {
      s = applyEvent(s, e);
      expect(s.status).toBe("completed");
      expect(s.steps.a).toMatchObject({ status: "completed", attempt: 2 });
      expect(s.steps.b.status).toBe("completed");
    }
    // A review sending step b back starts a new attempt, which does show.
    s = applyEvent(s, event("step.retrying", "b", { attempt: 1, nextAttempt: 2, reason: "review feedback" }));
    s = applyEvent(s, event("step.started", "b", { attempt: 2, agentId: "grace" }));
    expect(s.steps.b).toMatchObject({ status: "running", attempt: 2 });
  });

  it("takes the total and the current step from execution.progress", () => {
    const s = applyEvent(fromSnapshot(execution([run("a", 1, "completed")]), ["a", "b"]),
      event("execution.progress", null, { completed: 1, skipped: 0, failed: 0, total: 3, currentStepId: "b" }));
    expect(s.progress).toEqual({ completed: 1, skipped: 0, failed: 0, total: 3 });
    expect(s.currentStepId).toBe("b");
    expect(percent(s.progress)).toBe(33);
  });

  it("lets a late snapshot add outputs but not undo what newer events showed", () => {
    let s = fromSnapshot(execution([run("a", 1, "running")]), ["a", "b"]);
    s = applyEvent(s, event("execution.status", null, { status: "paused", previous: "running" }));
    s = applyEvent(s, event("step.completed", "a", { attempt: 1, agentId: "ada", summary: "done" }));
    // Read before the pause and before step a finished:
    const stale = fromSnapshot(execution([run("a", 1, "running")]), ["a", "b"]);
    const merged = mergeSnapshot(s, stale);
    expect(merged.status).toBe("paused");
    expect(merged.steps.a.status).toBe("completed");
    expect(merged.lastEventId).toBe(s.lastEventId);
    // A newer snapshot brings the output in.
    const newer = fromSnapshot(execution([run("a", 1, "completed", { summary: "done", output: "# Result" })]), ["a", "b"]);
    expect(mergeSnapshot(s, newer).steps.a).toMatchObject({ status: "completed", summary: "done" });
  });
});
