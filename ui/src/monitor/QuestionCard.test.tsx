import { fireEvent, render, screen, waitFor } from "@testing-library/react";
import { describe, expect, it } from "vitest";
import { ApiError } from "../api/client";
import type { Interaction } from "../api/types";
import { QuestionCard } from "./QuestionCard";

const question: Interaction = {
  id: "q1", workflowExecutionId: "e1", fromAgentId: "ada", toAgentId: null, interactionType: "question",
  message: "Should the export include archived rows?", contextData: null, relatedStepId: "export", relatedTaskId: null,
  requiresResponse: true, responseDeadline: null, responseReceived: false, responseMessage: null, responseData: null,
  createdAt: "", respondedAt: null, toUserId: "u1", responseStatus: "pending",
};

describe("QuestionCard", () => {
  it("sends the user's answer and hands back the answered question", async () => {
    const sent: [string, string][] = [];
    const answered: Interaction[] = [];
    render(
      <QuestionCard question={question} agentName="Ada" onAnswered={(i) => answered.push(i)}
        send={async (id, message) => {
          sent.push([id, message]);
          return { ...question, responseReceived: true, responseStatus: "answered", responseMessage: message };
        }} />,
    );
    expect(screen.getByText("Should the export include archived rows?")).toBeTruthy();
    const button = screen.getByRole("button", { name: "Answer" }) as HTMLButtonElement;
    expect(button.disabled).toBe(true);
    fireEvent.change(screen.getByLabelText("Your answer"), { target: { value: " No, active rows only " } });
    fireEvent.click(button);
    await waitFor(() => expect(answered).toHaveLength(1));
    expect(sent).toEqual([["q1", "No, active rows only"]]);
    expect(answered[0].responseStatus).toBe("answered");
  });

  it("says why an answer was refused", async () => {
    render(
      <QuestionCard question={question} agentName="Ada" onAnswered={() => {}}
        send={() => Promise.reject(new ApiError(409, "conflict", "This question has already expired", {}))} />,
    );
    fireEvent.change(screen.getByLabelText("Your answer"), { target: { value: "Yes" } });
    fireEvent.click(screen.getByRole("button", { name: "Answer" }));
    expect((await screen.findByRole("alert")).textContent).toBe("This question has already expired");
  });
});
