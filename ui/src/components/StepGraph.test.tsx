import { render, screen } from "@testing-library/react";
import { describe, expect, it } from "vitest";
import type { WorkflowStep } from "../api/types";
import { emptyStep } from "../builder/WorkflowBuilder";
import type { StepView } from "../monitor/liveState";
import { STATUS_COLOURS, StepGraph, effectiveDependencies } from "./StepGraph";

const step = (id: string, dependsOn: string[] = []): WorkflowStep => ({ ...emptyStep(0, []), id, name: `Step ${id}`, dependsOn });
const view = (status: StepView["status"], agentId: string | null = null): StepView => ({
  status, attempt: 1, agentId, summary: null, error: null, reason: null,
});
const rgb = (hex: string) => {
  const n = parseInt(hex.slice(1), 16);
  return `rgb(${(n >> 16) & 255}, ${(n >> 8) & 255}, ${n & 255})`;
};

describe("StepGraph", () => {
  it("colours each step by its live status and names the agent on it", () => {
    const steps = [step("plan"), step("build", ["plan"]), step("test", ["plan"]), step("ship", ["build", "test"])];
    render(
      <StepGraph
        steps={steps}
        workflowType="parallel"
        views={{ plan: view("completed", "a1"), build: view("running", "a2"), test: view("failed", "a1"), ship: view("waiting") }}
        agentNames={{ a1: "Ada", a2: "Grace" }}
      />,
    );
    const expected = { plan: "completed", build: "running", test: "failed", ship: "waiting" } as const;
    for (const [id, status] of Object.entries(expected)) {
      const node = screen.getByTestId(`step-node-${id}`);
      expect(node.dataset.status).toBe(status);
      expect(node.style.borderColor).toBe(rgb(STATUS_COLOURS[status].border));
      expect(node.style.background).toContain(rgb(STATUS_COLOURS[status].background));
      expect(node.textContent).toContain(STATUS_COLOURS[status].label);
    }
    expect(screen.getByTestId("step-node-build").textContent).toContain("Grace");
    expect(screen.getByTestId("step-node-plan").textContent).toContain("Ada");
    expect(screen.getByTestId("step-node-ship").textContent).not.toContain("Ada");
  });

  it("previews a definition without statuses, and says what to do when it has no steps", () => {
    const { rerender } = render(<StepGraph steps={[step("a")]} workflowType="pipeline" />);
    expect(screen.getByTestId("step-node-a").dataset.status).toBe("preview");
    rerender(<StepGraph steps={[]} workflowType="pipeline" />);
    expect(screen.getByText("Add a step to see the workflow graph.")).toBeTruthy();
  });

  it("chains pipeline steps in order and follows dependsOn otherwise", () => {
    const steps = [step("a"), step("b"), step("c", ["a"])];
    expect(effectiveDependencies(steps, "pipeline")).toEqual({ a: [], b: ["a"], c: ["b", "a"] });
    expect(effectiveDependencies(steps, "parallel")).toEqual({ a: [], b: [], c: ["a"] });
  });
});
