// The tool calls of one execution waiting for the user's approval, in its monitor (the page
// keeps the list current from the execution's event stream).
import type { ToolApproval } from "../api/types";
import { Card } from "../components/ui";
import { ApprovalCard } from "./ApprovalCard";

export function ExecutionApprovals({ approvals, stepName, onDecided }: {
  approvals: ToolApproval[];
  stepName: (id: string) => string;
  onDecided: (decided: ToolApproval) => void;
}) {
  if (approvals.length === 0) return null;
  return (
    <Card title="Tool calls waiting for your approval">
      {approvals.map((a) => (
        <ApprovalCard key={a.id} approval={a} stepName={stepName(a.stepId)} onDecided={onDecided} />
      ))}
    </Card>
  );
}
