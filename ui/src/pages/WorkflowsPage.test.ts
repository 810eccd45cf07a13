import { describe, expect, it } from "vitest";
import type { Workflow } from "../api/types";
import { copyName, filterWorkflows } from "./WorkflowsPage";

const wf = (name: string, status: Workflow["status"], updatedAt: string, steps = 1): Workflow => ({
  id: name, name, description: `about ${name}`, workflowType: "pipeline", participatingAgents: [], coordinatorAgentId: null,
  configuration: { steps: Array(steps).fill({}) } as never,
  status, currentStep: 0, totalSteps: steps, startedAt: null, completedAt: null, templateId: null, createdAt: "", updatedAt,
  userId: "u1", projectId: null, executionHistory: [], collaborationMetrics: null, finalResult: null,
  estimatedDuration: null, actualDuration: null,
});

describe("workflow list", () => {
  const list = [wf("Beta", "completed", "2026-01-02", 5), wf("alpha", "draft", "2026-01-03", 2), wf("Gamma", "failed", "2026-01-01", 9)];
  it("searches names and descriptions, filters by status and sorts", () => {
    expect(filterWorkflows(list, "ALP", "", "recent").map((w) => w.name)).toEqual(["alpha"]);
    expect(filterWorkflows(list, "about", "failed", "recent").map((w) => w.name)).toEqual(["Gamma"]);
    expect(filterWorkflows(list, "", "", "recent").map((w) => w.name)).toEqual(["alpha", "Beta", "Gamma"]);
    expect(filterWorkflows(list, "", "", "name").map((w) => w.name)).toEqual(["alpha", "Beta", "Gamma"]);
    expect(filterWorkflows(list, "", "", "steps").map((w) => w.name)).toEqual(["Gamma", "Beta", "alpha"]);
  });
  it("names a copy so that it does not clash", () => {
    expect(copyName("Ship", [])).toBe("Ship (copy)");
    expect(copyName("Ship", ["Ship (copy)"])).toBe("Ship (copy 2)");
    expect(copyName("Ship (copy)", ["Ship (copy)"])).toBe("Ship (copy 2)");
  });
});
