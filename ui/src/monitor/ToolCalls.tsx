// The tool calls of a run (`tool.called` events, docs/contracts.md): when, in which step, by
// whom, which tool with which arguments (secrets redacted by the server), how long, and what it
// returned or why it failed. Shown under the timeline and, per step, in the inspector. An event
// is recorded when its call ends: the call started `durationMs` before.
import type { ToolCall } from "../api/types";

export function ToolCallsTable({ calls, since, stepName, onSelect }: {
  calls: ToolCall[];
  /** The run's start: times are shown as seconds since it. */
  since: string;
  stepName: (id: string) => string;
  onSelect: (stepId: string) => void;
}) {
  const start = new Date(since).getTime();
  return (
    <section aria-labelledby="tool-calls-title" className="stack">
      <h3 id="tool-calls-title">Tool calls ({calls.length})</h3>
      {calls.length === 0 ? (
        <p className="muted small">No agent called a tool in this run (tools come from the workflow's MCP servers and toolkits, on each agent's allow-list).</p>
      ) : (
        <div className="table-wrap">
          <table className="table" aria-label="Tool calls of this run">
            <thead><tr><th title="Seconds after the run started">Started</th><th>Step</th><th>Agent</th><th>Tool</th><th>Took</th><th>Result</th></tr></thead>
            <tbody>
              {calls.map((call, i) => (
                <tr key={i} data-testid="tool-call-row">
                  <td className="small nowrap">{call.at ? `${Math.max(0, (new Date(call.at).getTime() - call.durationMs - start) / 1000).toFixed(1)} s` : ""}</td>
                  <td><button type="button" className="linklike" onClick={() => onSelect(call.stepId)}><bdi>{stepName(call.stepId)}</bdi></button>
                    {call.attempt > 1 && <span className="muted small"> (attempt {call.attempt})</span>}</td>
                  <td><bdi>{call.agentName}</bdi></td>
                  <td><code>{call.server}.{call.tool}</code></td>
                  <td className="small nowrap">{Math.round(call.durationMs).toLocaleString()} ms</td>
                  <td className="small clamp" dir="auto">
                    {call.error ? <span className="error-text">{call.error}</span> : call.resultExcerpt}
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      )}
    </section>
  );
}
