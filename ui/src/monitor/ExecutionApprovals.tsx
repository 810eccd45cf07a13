// The tool calls of one execution waiting for the user's approval, live, in its monitor.
import { api } from "../api/client";
import { useEventStream } from "../api/events";
import type { ToolApproval } from "../api/types";
import { useResource } from "../api/useResource";
import { Card } from "../components/ui";
import { ApprovalCard } from "./ApprovalCard";

export function ExecutionApprovals({ executionId }: { executionId: string }) {
  const approvals = useResource(`approvals-${executionId}`, () =>
    api.get<ToolApproval[]>(`/approvals?status=pending&executionId=${encodeURIComponent(executionId)}`),
  );
  useEventStream(`/executions/${executionId}/events`, (event) => {
    if (event.kind.startsWith("approval.")) approvals.reload();
  });
  const waiting = approvals.data ?? [];
  if (waiting.length === 0) return null;
  return (
    <Card title="Tool calls waiting for your approval">
      {waiting.map((a) => (
        <ApprovalCard key={a.id} approval={a}
          onDecided={() => approvals.setData((list) => list?.filter((x) => x.id !== a.id))} />
      ))}
    </Card>
  );
}
