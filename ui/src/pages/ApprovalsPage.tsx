import { useEffect, useRef, useState } from "react";
import { Link } from "react-router-dom";
import { api } from "../api/client";
import { useEventStream } from "../api/events";
import type { Execution, ToolApproval, WorkflowStep } from "../api/types";
import { useResource } from "../api/useResource";
import { EmptyState, ErrorState, Loading, Page } from "../components/ui";
import { ApprovalCard } from "../monitor/ApprovalCard";

export function ApprovalsPage({ onDecided }: { onDecided: () => void }) {
  const approvals = useResource("approvals-page", () =>
    api.get<ToolApproval[]>("/approvals?status=pending"),
  );
  const runs = useRuns(approvals.data ?? []);
  // New requests and decisions made elsewhere (the CLI, another tab) arrive live.
  useEventStream("/events", (event) => {
    if (event.kind.startsWith("approval.")) approvals.reload();
  });

  return (
    <Page title="Approvals" subtitle="Tool calls marked requireApproval wait here for your decision.">
      {approvals.error ? (
        <ErrorState error={approvals.error} onRetry={approvals.reload} />
      ) : !approvals.data ? (
        <Loading what="approvals" />
      ) : approvals.data.length === 0 ? (
        <EmptyState title="No tool calls waiting" action={<Link className="button secondary" to="/workflows">Go to workflows</Link>}>
          When an agent wants to call a tool that needs your approval, the call waits here.
        </EmptyState>
      ) : (
        <div className="stack">
          {approvals.data.map((a) => (
            <div key={a.id} className="card">
              <ApprovalCard
                approval={a}
                stepName={runs[a.executionId]?.steps[a.stepId]}
                onDecided={() => {
                  approvals.setData((list) => list?.filter((x) => x.id !== a.id));
                  onDecided();
                }}
              />
              <Link className="small" to={`/executions/${a.executionId}`}>
                Open the run{runs[a.executionId] ? ` (#${runs[a.executionId].number})` : ""}
              </Link>
            </div>
          ))}
        </div>
      )}
    </Page>
  );
}

/** The runs the approvals belong to (read once each): their numbers and step names, so a card
 * says "in Write the report", not the step's ID. */
function useRuns(approvals: ToolApproval[]): Record<string, { number: number; steps: Record<string, string> }> {
  const [runs, setRuns] = useState<Record<string, { number: number; steps: Record<string, string> }>>({});
  const asked = useRef(new Set<string>());
  const ids = [...new Set(approvals.map((a) => a.executionId))].join(",");
  useEffect(() => {
    for (const id of ids ? ids.split(",") : []) {
      if (asked.current.has(id)) continue;
      asked.current.add(id);
      api.get<Execution>(`/executions/${id}`).then((execution) => {
        const steps = (execution.definition as { configuration?: { steps?: WorkflowStep[] } }).configuration?.steps ?? [];
        const names = Object.fromEntries(steps.map((s) => [s.id, s.name || s.id]));
        setRuns((known) => ({ ...known, [id]: { number: execution.executionNumber, steps: names } }));
      }).catch(() => {}); // the card still shows the step's ID
    }
  }, [ids]);
  return runs;
}
