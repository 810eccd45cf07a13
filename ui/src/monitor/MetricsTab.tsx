import type { Metrics, ScoreEvidence, Usage } from "../api/types";
import { EmptyState, money, tokens } from "../components/ui";

export function MetricsTab({ metrics, usage, agentNames }: {
  metrics: Metrics | undefined;
  usage: Usage | undefined;
  agentNames: Record<string, string>;
}) {
  if (!metrics) return <EmptyState title="No metrics yet">Metrics appear once the execution has started.</EmptyState>;
  const figures = [
    ["Collaboration", `${metrics.collaborationScore.toFixed(1)} / 10`],
    ["Efficiency", `${metrics.efficiencyRating.toFixed(1)} / 10`],
    ["Quality", `${metrics.qualityScore.toFixed(1)} / 10`],
    ["Interactions", String(metrics.totalInteractions)],
    ["Avg. response", `${metrics.averageResponseTime.toFixed(2)} min`],
    ["Knowledge items", String(metrics.knowledgeItemsCreated)],
  ];
  if (usage) {
    figures.push(
      ["Tokens", tokens(usage.inputTokens + usage.outputTokens)],
      ["Model calls", String(usage.modelCalls)],
      ["Cost", money(usage.costUsd)],
    );
  }
  return (
    <div className="stack">
      <div className="figures">
        {figures.map(([label, value]) => (
          <div key={label} className="figure">
            <div className="figure-value">{value}</div>
            <div className="figure-label">{label}</div>
          </div>
        ))}
      </div>
      {metrics.evidence && (
        <div className="table-wrap">
          <table className="table" aria-label="Evidence behind the scores">
            <thead>
              <tr><th>Score</th><th>Counts</th><th>Formula</th><th>Not counted</th></tr>
            </thead>
            <tbody>
              {(["collaboration", "efficiency", "quality"] as const).map((name) => (
                <EvidenceRow key={name} name={name} evidence={metrics.evidence[name]} />
              ))}
            </tbody>
          </table>
        </div>
      )}
      <div className="table-wrap">
        <table className="table" aria-label="Usage per agent">
          <thead>
            <tr>
              <th>Agent</th><th>Steps</th><th>Approvals</th><th>Rejections</th>
              <th>Input tokens</th><th>Output tokens</th><th>Cost</th>
            </tr>
          </thead>
          <tbody>
            {metrics.agents.length === 0 ? (
              <tr><td colSpan={7} className="muted">No agent has worked on this execution yet.</td></tr>
            ) : (
              metrics.agents.map((a) => (
                <tr key={a.agentId}>
                  <td className="strong">{a.agentName ?? agentNames[a.agentId] ?? a.agentId.slice(0, 8)}</td>
                  <td>{a.steps}</td>
                  <td>{a.approvals}</td>
                  <td>{a.rejections}</td>
                  <td>{tokens(a.inputTokens)}</td>
                  <td>{tokens(a.outputTokens)}</td>
                  <td>{money(a.costUsd)}</td>
                </tr>
              ))
            )}
          </tbody>
        </table>
      </div>
    </div>
  );
}

function counted(values: Record<string, number>): string {
  return Object.entries(values).map(([k, v]) => `${k} ${v}`).join(", ") || "none";
}

function EvidenceRow({ name, evidence }: { name: string; evidence: ScoreEvidence }) {
  return (
    <tr>
      <td className="strong">{name}</td>
      <td>{counted(evidence.counts)}</td>
      <td><code>{evidence.formula}</code></td>
      <td className="muted">{counted(evidence.notCounted)}</td>
    </tr>
  );
}
