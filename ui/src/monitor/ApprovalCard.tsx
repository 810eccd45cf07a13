// A tool call waiting for the user's approval: what the agent wants to call, with which
// arguments, and the buttons to approve it or reject it with a reason the agent will read.
import { useState } from "react";
import { api, ApiError } from "../api/client";
import type { ToolApproval } from "../api/types";

export type Decide = (id: string, approve: boolean, reason: string | null) => Promise<ToolApproval>;

const postDecision: Decide = (id, approve, reason) =>
  api.post<ToolApproval>(`/approvals/${id}/${approve ? "approve" : "reject"}`, reason ? { reason } : {});

export function ApprovalCard({ approval, onDecided, send = postDecision, stepName }: {
  approval: ToolApproval;
  /** The step's name where the page knows it (else its ID is shown). */
  stepName?: string;
  onDecided: (decided: ToolApproval) => void;
  /** Sends the decision; the server's `POST /approvals/{id}/approve|reject` unless given. */
  send?: Decide;
}) {
  const [reason, setReason] = useState("");
  const [sending, setSending] = useState(false);
  const [error, setError] = useState<string>();
  const who = approval.agentName ?? "An agent";

  const decide = async (approve: boolean) => {
    setSending(true);
    setError(undefined);
    try {
      onDecided(await send(approval.id, approve, reason.trim() || null));
    } catch (e) {
      setError(e instanceof ApiError ? e.message : String(e));
    } finally {
      setSending(false);
    }
  };

  return (
    <section className="question" aria-label={`Approval for ${who}`}>
      <div className="question-head">
        <span className="badge type-approval">Approval</span>
        <bdi className="strong">{who}</bdi>
        <span className="muted small">
          in <bdi>{stepName ?? approval.stepId}</bdi>
          {approval.attempt > 1 ? ` (attempt ${approval.attempt})` : ""}
        </span>
        {approval.deadlineAt && (
          <span className="muted small">
            {approval.onTimeout === "approve" ? "approved" : "rejected"} if undecided by{" "}
            {new Date(approval.deadlineAt).toLocaleTimeString()}
          </span>
        )}
      </div>
      <p>
        wants to call <code>{approval.server}.{approval.tool}</code> with
      </p>
      <pre className="arguments">{JSON.stringify(approval.arguments, null, 2)}</pre>
      <div className="inline-form">
        <input aria-label="Reason" value={reason} placeholder="Reason (the agent reads it if you reject)"
          onChange={(e) => setReason(e.target.value)} />
        <button className="button" disabled={sending} onClick={() => decide(true)}>Approve</button>
        <button className="button danger" disabled={sending} onClick={() => decide(false)}>Reject</button>
      </div>
      {error && <p className="error-text" role="alert">{error}</p>}
    </section>
  );
}
