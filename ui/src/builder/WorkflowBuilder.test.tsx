import { fireEvent, render, screen, waitFor, within } from "@testing-library/react";
import { describe, expect, it } from "vitest";
import { ApiError } from "../api/client";
import type { Agent, CreateWorkflowRequest, Problem } from "../api/types";
import { WorkflowBuilder, emptyWorkflow } from "./WorkflowBuilder";

const agent = (id: string, name: string, role: string): Agent => ({
  id, name, role, backstory: "", skills: [], llmProviderId: null, model: null, modelParameters: {},
  createdAt: "", updatedAt: "",
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
  it("shows the server's validation messages at the field they name", async () => {
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
    const second = screen.getByRole("group", { name: "Step 2" });
    fireEvent.click(within(second).getByLabelText("step-1"));

    // The workflow has no name yet: the message sits under the Name field.
    await waitFor(() => expect(within(fieldOf("name")).getByText(/name is required/)).toBeTruthy());
    expect(screen.getAllByLabelText("Name")[0].getAttribute("aria-invalid")).toBe("true");

    // Renaming step 1's ID leaves step 2 depending on a step that no longer exists.
    const first = screen.getByRole("group", { name: "Step 1" });
    fireEvent.change(within(first).getByLabelText("ID"), { target: { value: "design" } });
    await waitFor(() =>
      expect(within(fieldOf("configuration.steps[1].dependsOn")).getByText(/depends on unknown step 'step-1'/)).toBeTruthy(),
    );
    expect(within(second).getByText(/use one of: design, step-2/)).toBeTruthy();
    expect(within(second).getByText("step-1 (missing)")).toBeTruthy();
    expect(within(first).queryByText(/unknown step/)).toBeNull();
    expect(sent.at(-1)!.configuration.steps.map((s) => s.id)).toEqual(["design", "step-2"]);

    // Fixing it clears the messages.
    fireEvent.change(screen.getAllByLabelText("Name")[0], { target: { value: "Ship it" } });
    fireEvent.click(within(second).getByText("step-1 (missing)"));
    await waitFor(() => expect(screen.getByText("No problems found.")).toBeTruthy());
    expect(fieldOf("configuration.steps[1].dependsOn").textContent).not.toContain("unknown");
  });

  it("puts the problems of a rejected save at their fields, and lists the rest", async () => {
    const initial = emptyWorkflow();
    initial.name = "Review flow";
    initial.participatingAgents = ["a1"];
    initial.configuration.steps = [
      { id: "write", name: "Write", description: "", type: "implementation", requiredSkills: [], dependsOn: [],
        instructions: "", expectedOutput: "", validationCriteria: [], reviewRequired: true },
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
