import { fireEvent, render, screen, within } from "@testing-library/react";
import { describe, expect, it } from "vitest";
import type { Interaction, InteractionType } from "../api/types";
import { Timeline } from "./Timeline";

let n = 0;
const interaction = (type: InteractionType, from: string, to: string | null, message: string, extra: Partial<Interaction> = {}): Interaction => ({
  id: `i${++n}`, workflowExecutionId: "e1", fromAgentId: from, toAgentId: to, interactionType: type, message,
  contextData: null, relatedStepId: "build", relatedTaskId: null, requiresResponse: false, responseDeadline: null, responseReceived: false,
  responseMessage: null, responseData: null, createdAt: "2026-01-01T10:00:00Z", respondedAt: null, toUserId: null,
  responseStatus: null, ...extra,
});

const interactions = [
  interaction("task_delegation", "coord", "ada", "Ada takes 'build': best skill match"),
  interaction("question", "ada", "grace", "Which database?", {
    requiresResponse: true, responseReceived: true, responseStatus: "answered", responseMessage: "Postgres",
  }),
  interaction("question", "grace", "coord", "Deadline?", { requiresResponse: true, responseStatus: "pending" }),
  interaction("feedback", "grace", "ada", "Add tests for the edge cases"),
  interaction("coordination", "grace", null, "Grace votes approve: tests pass", {
    contextData: { choice: "approve", rationale: "tests pass", round: 1, decision: "majority" },
  }),
];
const names = { coord: "Coordinator", ada: "Ada", grace: "Grace" };
const shown = () => screen.queryAllByTestId("interaction").map((li) => li.querySelector(".timeline-message")!.textContent);

describe("Timeline", () => {
  it("shows every kind of interaction with answers and votes", () => {
    render(<Timeline interactions={interactions} agentNames={names} />);
    expect(shown()).toHaveLength(5);
    const answered = screen.getAllByTestId("interaction")[1];
    expect(within(answered).getByText("Postgres")).toBeTruthy();
    expect(within(answered).getByText(/Answer from Grace/)).toBeTruthy();
    expect(within(screen.getAllByTestId("interaction")[2]).getByText("Waiting for an answer…")).toBeTruthy();
    expect(screen.getByText("Vote: approve")).toBeTruthy();
    expect(screen.getByText("· round 1 · majority")).toBeTruthy();
  });

  it("filters by type, by agent, and by both", () => {
    render(<Timeline interactions={interactions} agentNames={names} />);
    const byType = screen.getByLabelText("Filter by type");
    const byAgent = screen.getByLabelText("Filter by agent");

    fireEvent.change(byType, { target: { value: "question" } });
    expect(shown()).toEqual(["Which database?", "Deadline?"]);

    fireEvent.change(byType, { target: { value: "" } });
    fireEvent.change(byAgent, { target: { value: "ada" } });
    expect(shown()).toEqual(["Ada takes 'build': best skill match", "Which database?", "Add tests for the edge cases"]);

    fireEvent.change(byType, { target: { value: "feedback" } });
    expect(shown()).toEqual(["Add tests for the edge cases"]);

    fireEvent.change(byType, { target: { value: "knowledge_sharing" } });
    expect(shown()).toEqual([]);
    expect(screen.getByText("Nothing matches these filters")).toBeTruthy();
  });

  it("says what will appear when there is nothing yet", () => {
    render(<Timeline interactions={[]} agentNames={names} />);
    expect(screen.getByText("No interactions yet")).toBeTruthy();
  });
});
