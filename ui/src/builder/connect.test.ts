import { describe, expect, it } from "vitest";
import type { WorkflowStep } from "../api/types";
import { emptyStep } from "./WorkflowBuilder";
import { connectionProblem } from "./connect";

const step = (id: string, name: string, dependsOn: string[] = []): WorkflowStep => ({ ...emptyStep(0, []), id, name, dependsOn });

describe("connectionProblem", () => {
  const steps = [step("plan", "Plan"), step("build", "Build", ["plan"]), step("test", "Test", ["build"]), step("docs", "Docs")];

  it("lets a step depend on one it does not reach", () => {
    expect(connectionProblem(steps, "parallel", "docs", "test")).toBeNull();
    expect(connectionProblem(steps, "parallel", "plan", "docs")).toBeNull();
  });

  it("refuses a loop, naming the steps on the way", () => {
    expect(connectionProblem(steps, "parallel", "test", "plan")).toBe(
      "“Test” already waits for “Plan” (through “Build”), so “Plan” cannot depend on it: each would wait for the other for ever.",
    );
  });

  it("counts a pipeline's order as waiting", () => {
    expect(connectionProblem(steps, "pipeline", "docs", "plan")).toContain("“Docs” already waits for “Plan”");
    expect(connectionProblem(steps, "parallel", "docs", "plan")).toBeNull();
  });

  it("refuses the same step and a connection that exists", () => {
    expect(connectionProblem(steps, "parallel", "plan", "plan")).toBe("A step cannot depend on itself.");
    expect(connectionProblem(steps, "parallel", "plan", "build")).toBe("“Build” already depends on “Plan”.");
  });
});
