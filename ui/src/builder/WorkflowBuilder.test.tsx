import { fireEvent, render, screen, waitFor, within } from "@testing-library/react";
import { describe, expect, it } from "vitest";
import { ApiError } from "../api/client";
import type { Agent, CreateWorkflowRequest, Problem } from "../api/types";
import { WorkflowBuilder, emptyStep, emptyWorkflow, renameStepId } from "./WorkflowBuilder";

const agent = (id: string, name: string, role: string): Agent => ({
  id, userId: "u1", name, role, backstory: "", skills: [], llmProviderId: null, model: null, modelParameters: {},
  tools: [], createdAt: "", updatedAt: "",
});
const agents = [agent("a1", "Ada", "developer"), agent("a2", "Grace", "reviewer")];

/** Checks a definition the way the server's compiler words it (a small subset of its rules). */
async function serverLikeValidate(request: CreateWorkflowRequest): Promise<Problem[]> {
  const problems: Problem[] = [];
  if (!request.name) problems.push({ field: "name", message: "name is required", fix: "give the workflow a name" });
  const ids = request.configuration.steps.map((s) => s.id);
  request.configuration.steps.forEach((step, i) =>
    step.dependsOn.forEach((dep, j) => {
      if (!ids.includes(dep)) {
        problems.push({
          field: `configuration.steps[${i}].dependsOn[${j}]`,
          message: `step '${step.id}' depends on unknown step '${dep}'`,
          fix: `use one of: ${ids.join(", ")}`,
        });
      }
    }),
  );
  return problems;
}

const fieldOf = (path: string) => document.querySelector(`[data-field="${path}"]`) as HTMLElement;

describe("WorkflowBuilder", () => {
  it("shows every problem at once at its field, in the user's words, and carries ID renames", async () => {
    const sent: CreateWorkflowRequest[] = [];
    render(
      <WorkflowBuilder
        agents={agents}
        initial={emptyWorkflow()}
        validate={(r) => { sent.push(r); return serverLikeValidate(r); }}
        onSubmit={async () => {}}
        submitLabel="Create workflow"
        validateDelay={0}
      />,
    );
    fireEvent.click(screen.getByRole("button", { name: "Add step" }));
    fireEvent.click(screen.getByRole("button", { name: "Add step" }));
    const first = screen.getByRole("group", { name: "Step 1" });
    const second = screen.getByRole("group", { name: "Step 2" });
    fireEvent.click(within(second).getByLabelText("step-1"));
    fireEvent.change(within(first).getByLabelText("Name"), { target: { value: "Design" } });
    // Step 1 also waits for step 2: a circle, reported together with the blank names.
    fireEvent.click(within(first).getByLabelText("step-2"));

    await waitFor(() => expect(within(fieldOf("name")).getByText(/The workflow needs a name/)).toBeTruthy());
    expect(screen.getAllByLabelText("Name")[0].getAttribute("aria-invalid")).toBe("true");
    expect(within(fieldOf("configuration.steps[1].name")).getByText(/Step 2 needs a name/)).toBeTruthy();
    expect(within(fieldOf("configuration.steps[0].dependsOn")).getByText(/wait for each other in a circle: Design → step-2 → Design/)).toBeTruthy();
    // The server says the same of the name in its own words: shown once, the builder's way.
    expect(screen.queryByText(/name is required/)).toBeNull();

    // Renaming step 1's ID carries the new ID to the step that depends on it.
    fireEvent.click(within(first).getByLabelText("step-2"));
    fireEvent.change(within(first).getByLabelText("ID"), { target: { value: "design" } });
    await waitFor(() => expect(sent.at(-1)!.configuration.steps[1].dependsOn).toEqual(["design"]));
    expect(within(second).queryByText(/missing/)).toBeNull();

    fireEvent.change(screen.getAllByLabelText("Name")[0], { target: { value: "Ship it" } });
    fireEvent.change(within(second).getByLabelText("Name"), { target: { value: "Build" } });
    await waitFor(() => expect(screen.getByText("No problems found.")).toBeTruthy());
  });

  it("renames a step ID in dependents and in the conditions that read it", () => {
    const steps = [
      { ...emptyStep(0, []), id: "triage" },
      { ...emptyStep(1, []), id: "fix", dependsOn: ["triage"], condition: 'decisions.triage.outcome == "bug" and steps.triage.confidence > 0.5' },
      { ...emptyStep(2, []), id: "triage2", condition: "steps.triage2.confidence > 0" },
    ];
    const renamed = renameStepId(steps, 0, "triage", "classify");
    expect(renamed.map((s) => s.id)).toEqual(["classify", "fix", "triage2"]);
    expect(renamed[1].dependsOn).toEqual(["classify"]);
    expect(renamed[1].condition).toBe('decisions.classify.outcome == "bug" and steps.classify.confidence > 0.5');
    expect(renamed[2]).toBe(steps[2]);
  });

  it("puts the problems of a rejected save at their fields, and lists the rest", async () => {
    const initial = emptyWorkflow();
    initial.name = "Review flow";
    initial.participatingAgents = ["a1"];
    initial.configuration.steps = [
      { ...emptyStep(0, []), id: "write", name: "Write", reviewRequired: true },
    ];
    const rejection = new ApiError(422, "invalid_definition", "Invalid workflow definition", {
      problems: [
        { field: "configuration.steps[0].reviewRequired", message: "step 'write' requires a review but only one agent takes part", fix: "add a second agent" },
        { field: "configuration.coordination.consensusRounds", message: "0 is out of range", fix: "use a value from 1 to 10" },
      ],
    });
    render(
      <WorkflowBuilder agents={agents} initial={initial} validate={async () => []}
        onSubmit={() => Promise.reject(rejection)} submitLabel="Create workflow" />,
    );
    fireEvent.click(screen.getByRole("button", { name: "Create workflow" }));
    await waitFor(() => expect(screen.getByRole("alert").textContent).toContain("fix the fields marked below"));
    expect(within(fieldOf("configuration.steps[0].reviewRequired")).getByText(/only one agent takes part/)).toBeTruthy();
    // A problem at a field the builder does not show is listed in the summary instead.
    expect(within(screen.getByRole("status")).getByText(/0 is out of range/)).toBeTruthy();
  });
});
