import { fireEvent, render, screen, waitFor } from "@testing-library/react";
import { describe, expect, it } from "vitest";
import { ApiError } from "../api/client";
import type { ToolApproval } from "../api/types";
import { ApprovalCard } from "./ApprovalCard";

const approval: ToolApproval = {
  id: "ap1", executionId: "e1", stepId: "write", attempt: 1, agentId: "ada", agentName: "Ada",
  server: "files", tool: "write_file", arguments: { path: "notes.md", token: "[redacted]" },
  status: "pending", reason: null, decidedBy: null, deadlineAt: null, onTimeout: "reject",
  createdAt: "", decidedAt: null,
};

describe("ApprovalCard", () => {
  it("shows the call and sends an approval", async () => {
    const sent: [string, boolean, string | null][] = [];
    const decided: ToolApproval[] = [];
    render(
      <ApprovalCard approval={approval} onDecided={(a) => decided.push(a)}
        send={async (id, approve, reason) => {
          sent.push([id, approve, reason]);
          return { ...approval, status: "approved" };
        }} />,
    );
    expect(screen.getByText("files.write_file")).toBeTruthy();
    expect(screen.getByText(/"path": "notes.md"/)).toBeTruthy();
    expect(screen.getByText(/\[redacted\]/)).toBeTruthy();
    fireEvent.click(screen.getByRole("button", { name: "Approve" }));
    await waitFor(() => expect(decided).toHaveLength(1));
    expect(sent).toEqual([["ap1", true, null]]);
    expect(decided[0].status).toBe("approved");
  });

  it("sends a rejection with the reason the agent will read", async () => {
    const sent: [string, boolean, string | null][] = [];
    render(
      <ApprovalCard approval={approval} onDecided={() => {}}
        send={async (id, approve, reason) => {
          sent.push([id, approve, reason]);
          return { ...approval, status: "rejected", reason };
        }} />,
    );
    fireEvent.change(screen.getByLabelText("Reason"), { target: { value: " write to docs/ instead " } });
    fireEvent.click(screen.getByRole("button", { name: "Reject" }));
    await waitFor(() => expect(sent).toHaveLength(1));
    expect(sent[0]).toEqual(["ap1", false, "write to docs/ instead"]);
  });

  it("says why a decision was refused", async () => {
    render(
      <ApprovalCard approval={{ ...approval, deadlineAt: "2026-12-07T03:00:00Z", onTimeout: "approve" }}
        onDecided={() => {}}
        send={() => Promise.reject(new ApiError(409, "illegal_transition", "Cannot move approval 'ap1' from 'expired' to 'approved'", {}))} />,
    );
    expect(screen.getByText(/approved if undecided by/)).toBeTruthy();
    fireEvent.click(screen.getByRole("button", { name: "Approve" }));
    expect((await screen.findByRole("alert")).textContent).toBe("Cannot move approval 'ap1' from 'expired' to 'approved'");
  });
});
