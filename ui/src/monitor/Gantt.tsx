// Attempts over time, one row per agent: what ran in parallel, what waited, what was retried,
// and (ticks) when each tool call was made. The ticks are decoration: the table of tool calls
// below the timeline says the same in words.
import type { StepRun, ToolCall } from "../api/types";
import { STATUS_COLOURS } from "../components/StepGraph";
import { EmptyState } from "../components/ui";
import type { StepStatus } from "./liveState";

export interface Bar {
  run: StepRun;
  /** Start and end as fractions (0..1) of the execution's span. */
  from: number;
  to: number;
}

/** Rows of bars per agent (unassigned attempts last), on one time scale; `now` ends running bars. */
export function ganttRows(runs: StepRun[], now: number): { rows: [string, Bar[]][]; start: number; end: number } {
  const timed = runs.filter((r) => r.startedAt);
  if (timed.length === 0) return { rows: [], start: now, end: now };
  const startOf = (r: StepRun) => new Date(r.startedAt!).getTime();
  const endOf = (r: StepRun) => (r.finishedAt ? new Date(r.finishedAt).getTime() : now);
  const start = Math.min(...timed.map(startOf));
  const end = Math.max(start + 1, ...timed.map(endOf));
  const span = end - start;
  const rows = new Map<string, Bar[]>();
  for (const run of timed) {
    const key = run.agentId ?? "";
    rows.set(key, [...(rows.get(key) ?? []), { run, from: (startOf(run) - start) / span, to: (endOf(run) - start) / span }]);
  }
  return { rows: [...rows].sort(([a], [b]) => (a === "" ? 1 : b === "" ? -1 : 0)), start, end };
}

export function Gantt({ runs, agentNames, stepName, onSelect, toolCalls = [] }: {
  runs: StepRun[];
  /** Drawn as ticks on their agent's row, at the time each was recorded. */
  toolCalls?: ToolCall[];
  agentNames: Record<string, string>;
  stepName: (id: string) => string;
  onSelect: (stepId: string) => void;
}) {
  const { rows, start, end } = ganttRows(runs, Date.now());
  if (rows.length === 0) return <EmptyState title="Nothing has run yet">Attempts appear here as agents start them.</EmptyState>;
  const seconds = (end - start) / 1000;
  return (
    <div className="gantt" role="table" aria-label="Attempts per agent over time">
      <div className="gantt-scale muted small" role="row">
        <span role="columnheader">Agent</span>
        <span role="columnheader">0 s … {seconds.toFixed(1)} s</span>
      </div>
      {rows.map(([agentId, bars]) => (
        <div className="gantt-row" role="row" key={agentId || "none"} data-testid="gantt-row">
          <span className="gantt-agent" role="rowheader" dir="auto"><bdi>{agentId ? (agentNames[agentId] ?? agentId.slice(0, 8)) : "Unassigned"}</bdi></span>
          <span className="gantt-track" role="cell">
            {bars.map(({ run, from, to }) => {
              const status = (run.status === "pending" ? "waiting" : run.status) as StepStatus;
              const colours = STATUS_COLOURS[status];
              const label = `${stepName(run.stepId)}, attempt ${run.attempt}: ${colours.label}`;
              return (
                <button
                  type="button"
                  key={run.id}
                  className="gantt-bar"
                  title={label}
                  aria-label={label}
                  style={{ left: `${from * 100}%`, width: `max(6px, ${(to - from) * 100}%)`, background: colours.background, borderColor: colours.border }}
                  onClick={() => onSelect(run.stepId)}
                />
              );
            })}
            {toolCalls.filter((c) => c.at && (c.agentId ?? "") === agentId).map((call, i) => {
              // Recorded as the call ended: it spans the `durationMs` before.
              const ended = new Date(call.at!).getTime();
              const from = (ended - call.durationMs - start) / (end - start);
              const to = (ended - start) / (end - start);
              if (to < 0 || from > 1) return null;
              const label = `${call.server}.${call.tool} by ${call.agentName} in ${stepName(call.stepId)}, ${Math.round(call.durationMs)} ms${call.error ? " (failed)" : ""}`;
              return <span key={i} className={`gantt-tick${call.error ? " failed" : ""}`}
                style={{ left: `${Math.max(0, from) * 100}%`, width: `max(2px, ${(Math.min(1, to) - Math.max(0, from)) * 100}%)` }} title={label} aria-hidden="true" />;
            })}
          </span>
        </div>
      ))}
    </div>
  );
}
