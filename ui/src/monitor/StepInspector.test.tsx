import { render, screen, within } from "@testing-library/react";
import { MemoryRouter } from "react-router-dom";
import { describe, expect, it } from "vitest";
import type { Execution, StepRun, WorkflowStep } from "../api/types";
import { emptyStep } from "../builder/WorkflowBuilder";
import { deliverableMarkdown, DeliverablePanel } from "./Deliverable";
import { ganttRows } from "./Gantt";
import { parseInputs } from "./RunDialog";
import { StepInspector } from "./StepInspector";
import { fromSnapshot } from "./liveState";

const step = (id: string, name: string, dependsOn: string[] = []): WorkflowStep => ({
  ...emptyStep(0, []), id, name, dependsOn, instructions: `Do ${name}`, reviewRequired: true, reviewerRole: "reviewer",
});
const run = (stepId: string, attempt: number, status: StepRun["status"], extra: Partial<StepRun> = {}): StepRun => ({
  id: `${stepId}-${attempt}`, executionId: "e1", stepId, attempt, status, agentId: "a1",
  startedAt: "2026-01-01T10:00:00Z", finishedAt: "2026-01-01T10:00:04Z", output: null, error: null,
  feedback: null, inputTokens: 1200, outputTokens: 300, costUsd: 0.0123, modelCalls: 2, outputMode: null,
  validationRetries: 0, toolCalls: 0, toolSeconds: 0, executorId: null, reusedFrom: null, ...extra,
});
const execution = (runs: StepRun[], extra: Partial<Execution> = {}): Execution => ({
  id: "e1", workflowId: "w1", executionNumber: 1, triggerReason: "manual", currentStepId: null, stepResults: {},
  activeAgents: [], agentAssignments: {}, status: "completed", errorMessage: null, finalOutput: null,
  startedAt: "2026-01-01T10:00:00Z", completedAt: "2026-01-01T10:00:09Z", updatedAt: "", parentExecutionId: null,
  depth: 0, definition: {}, triggeredBy: null, executionContext: {}, parentStepId: null, estimatedDuration: null,
  actualDuration: null, deliverable: null, retryOf: null, usage: { inputTokens: 0, outputTokens: 0, costUsd: 0, modelCalls: 0, toolCalls: 0, toolSeconds: 0 }, stepRuns: runs, ...extra,
});

describe("StepInspector", () => {
  it("shows each attempt with its agent, usage, error and review feedback, the output, and a nested team's run", () => {
    const steps = [step("plan", "Plan"), step("audit", "Security audit", ["plan"])];
    const runs = [
      run("plan", 1, "completed", { output: { summary: "Planned", output: "# Plan" } }),
      run("audit", 1, "failed", { error: "model timed out" }),
      run("audit", 2, "completed", {
        agentId: "a2", feedback: "Cite the CVE numbers",
        output: { summary: "Audited", output: "{}", data: { childExecutionId: "child-9" } },
      }),
    ];
    render(
      <MemoryRouter>
        <StepInspector step={steps[1]} steps={steps} execution={execution(runs)} view={fromSnapshot(execution(runs), ["plan", "audit"]).steps.audit}
          dependencies={["plan"]} agentNames={{ a1: "Ada", a2: "Grace" }} interactions={[]} toolCalls={[]} paused={false}
          onSelect={() => {}} onClose={() => {}} />
      </MemoryRouter>,
    );
    const first = screen.getByTestId("attempt-1");
    expect(first.textContent).toContain("Ada");
    expect(first.textContent).toContain("1,200 in / 300 out");
    expect(within(first).getByText(/model timed out/)).toBeTruthy();
    const second = screen.getByTestId("attempt-2");
    expect(second.textContent).toContain("Grace");
    expect(within(second).getByText(/Cite the CVE numbers/)).toBeTruthy();
    expect(screen.getByRole("button", { name: "Plan" })).toBeTruthy();
    expect(screen.getByText("Planned")).toBeTruthy();
    expect(screen.getByTestId("child-execution-link").getAttribute("href")).toBe("/executions/child-9");
  });
});

describe("deliverable", () => {
  it("prefers the server's deliverable, else joins the final steps' outputs, and renders no raw HTML", () => {
    const names = (id: string) => ({ a: "Alpha", b: "Beta" })[id] ?? id;
    expect(deliverableMarkdown(execution([], { deliverable: { markdown: "# Report", stepIds: ["a"] } }), names)).toBe("# Report");
    expect(deliverableMarkdown(execution([], { finalOutput: { a: { output: "one" }, b: { output: "two" } } }), names))
      .toBe("## Alpha\n\none\n\n## Beta\n\ntwo");
    expect(deliverableMarkdown(execution([], { finalOutput: null }), names)).toBeNull();
    const { container } = render(
      <DeliverablePanel execution={execution([], { deliverable: { markdown: '# Done\n\n<img src=x onerror="alert(1)">', stepIds: [] } })} stepName={names} />,
    );
    expect(container.querySelector("h1")?.textContent).toBe("Done");
    expect(container.querySelector("img")).toBeNull();
    expect(screen.getByRole("link", { name: "Download .zip" }).getAttribute("href")).toBe("/api/v1/executions/e1/report?format=zip");
  });
});

describe("run inputs", () => {
  it("accepts an object or nothing, and says what is wrong otherwise", () => {
    expect(parseInputs("")).toEqual({ inputs: {} });
    expect(parseInputs('{"topic": "billing"}')).toEqual({ inputs: { topic: "billing" } });
    expect("error" in parseInputs("[1, 2]") && parseInputs("[1, 2]")).toMatchObject({ error: expect.stringContaining("not a list") });
    expect(parseInputs('{"a": 1,\n "b": }')).toMatchObject({ error: expect.stringContaining("not valid JSON") });
  });
});

describe("ganttRows", () => {
  it("puts each agent's attempts on one time scale, and a running attempt ends now", () => {
    const now = new Date("2026-01-01T10:00:10Z").getTime();
    const { rows } = ganttRows([
      run("a", 1, "completed"),
      run("b", 1, "running", { agentId: "a2", startedAt: "2026-01-01T10:00:05Z", finishedAt: null }),
      run("c", 1, "pending", { startedAt: null }),
    ], now);
    expect(rows.map(([agent]) => agent)).toEqual(["a1", "a2"]);
    expect(rows[0][1][0]).toMatchObject({ from: 0, to: 0.4 });
    expect(rows[1][1][0]).toMatchObject({ from: 0.5, to: 1 });
  });
});

describe("skipped and cancelled steps", () => {
  it("carry their recorded reason, not an error", () => {
    const live = fromSnapshot(execution([run("a", 1, "skipped", { error: "condition was false" }), run("b", 1, "cancelled", { error: "the run was cancelled" })]), ["a", "b"]);
    expect(live.steps.a).toMatchObject({ status: "skipped", reason: "condition was false", error: null });
    expect(live.steps.b).toMatchObject({ status: "cancelled", reason: "the run was cancelled" });
  });
});
