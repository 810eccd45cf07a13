import { Link } from "react-router-dom";
import { api } from "../api/client";
import { useEventStream } from "../api/events";
import type { ToolApproval } from "../api/types";
import { useResource } from "../api/useResource";
import { EmptyState, ErrorState, Loading, Page } from "../components/ui";
import { ApprovalCard } from "../monitor/ApprovalCard";

export function ApprovalsPage({ onDecided }: { onDecided: () => void }) {
  const approvals = useResource("approvals-page", () =>
    api.get<ToolApproval[]>("/approvals?status=pending"),
  );
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
                onDecided={() => {
                  approvals.setData((list) => list?.filter((x) => x.id !== a.id));
                  onDecided();
                }}
              />
              <Link className="small" to={`/executions/${a.executionId}`}>Open the run</Link>
            </div>
          ))}
        </div>
      )}
    </Page>
  );
}
