// The steps of a workflow as a graph: a live preview in the builder, and the live state of an
// execution in the monitor (each node coloured by its status, with the agent working on it).
import { useEffect, useMemo, useState } from "react";
import {
  Background,
  Controls,
  Handle,
  Position,
  ReactFlow,
  type Edge,
  type Node,
  type NodeProps,
} from "@xyflow/react";
import "@xyflow/react/dist/style.css";
import type { WorkflowStep, WorkflowType } from "../api/types";
import type { StepStatus, StepView } from "../monitor/liveState";

export const STATUS_COLOURS: Record<StepStatus, { border: string; background: string; label: string }> = {
  waiting: { border: "#94a3b8", background: "#f8fafc", label: "Waiting" },
  running: { border: "#2563eb", background: "#eff6ff", label: "Running" },
  retrying: { border: "#d97706", background: "#fffbeb", label: "Retrying" },
  completed: { border: "#16a34a", background: "#f0fdf4", label: "Completed" },
  failed: { border: "#dc2626", background: "#fef2f2", label: "Failed" },
  skipped: { border: "#a1a1aa", background: "#f4f4f5", label: "Skipped" },
  cancelled: { border: "#71717a", background: "#f4f4f5", label: "Cancelled" },
};

/** Each step's effective dependencies: a pipeline also waits for the step listed before it. */
export function effectiveDependencies(
  steps: WorkflowStep[],
  workflowType: WorkflowType,
): Record<string, string[]> {
  const ids = new Set(steps.map((s) => s.id));
  const deps: Record<string, string[]> = {};
  steps.forEach((step, i) => {
    const explicit = (step.dependsOn ?? []).filter((d) => ids.has(d) && d !== step.id);
    const implicit = workflowType === "pipeline" && i > 0 ? [steps[i - 1].id] : [];
    deps[step.id] = [...new Set([...implicit, ...explicit])];
  });
  return deps;
}

/** Column of each step: one more than its deepest dependency (cycles are cut, not looped). */
function columns(steps: WorkflowStep[], deps: Record<string, string[]>): Record<string, number> {
  const column: Record<string, number> = {};
  const visiting = new Set<string>();
  const visit = (id: string): number => {
    if (column[id] !== undefined) return column[id];
    if (visiting.has(id)) return 0;
    visiting.add(id);
    const depth = Math.max(-1, ...(deps[id] ?? []).map(visit)) + 1;
    visiting.delete(id);
    column[id] = depth;
    return depth;
  };
  steps.forEach((s) => visit(s.id));
  return column;
}

interface StepNodeData extends Record<string, unknown> {
  step: WorkflowStep;
  vertical: boolean;
  view?: StepView;
  agentName?: string;
}

function StepNode({ data }: NodeProps<Node<StepNodeData>>) {
  const status = data.view?.status;
  const colours = status ? STATUS_COLOURS[status] : undefined;
  return (
    <div
      className={`step-node${status ? ` status-${status}` : ""}`}
      data-testid={`step-node-${data.step.id}`}
      data-status={status ?? "preview"}
      style={colours ? { borderColor: colours.border, background: colours.background } : undefined}
      title={data.view?.error ?? data.view?.summary ?? data.step.description}
    >
      <Handle type="target" position={data.vertical ? Position.Top : Position.Left} />
      <div className="step-node-name">{data.step.name || data.step.id}</div>
      <div className="step-node-meta">
        {data.step.type}
        {data.step.reviewRequired ? " · reviewed" : ""}
        {data.step.condition ? " · conditional" : ""}
      </div>
      {colours && (
        <div className="step-node-status" style={{ color: colours.border }}>
          {colours.label}
          {data.view && data.view.attempt > 1 ? ` (attempt ${data.view.attempt})` : ""}
        </div>
      )}
      {data.agentName && <div className="step-node-agent">{data.agentName}</div>}
      <Handle type="source" position={data.vertical ? Position.Bottom : Position.Right} />
    </div>
  );
}

const nodeTypes = { step: StepNode };

interface StepGraphProps {
  steps: WorkflowStep[];
  workflowType: WorkflowType;
  /** Live state per step ID; without it the graph is a preview of the definition. */
  views?: Record<string, StepView>;
  agentNames?: Record<string, string>;
  height?: number;
  /** Top to bottom (for narrow panels) instead of left to right; by default only on a narrow window. */
  vertical?: boolean;
}

/** True while the window is phone-narrow (follows resizes). */
function useNarrowWindow(): boolean {
  const query = typeof window !== "undefined" && window.matchMedia ? window.matchMedia("(max-width: 760px)") : null;
  const [narrow, setNarrow] = useState(query?.matches ?? false);
  useEffect(() => {
    if (!query) return;
    const changed = () => setNarrow(query.matches);
    query.addEventListener("change", changed);
    return () => query.removeEventListener("change", changed);
  }, [query?.media]); // eslint-disable-line react-hooks/exhaustive-deps
  return narrow;
}

export function StepGraph({ steps, workflowType, views, agentNames = {}, height = 320, vertical: verticalProp }: StepGraphProps) {
  const narrow = useNarrowWindow();
  const vertical = verticalProp ?? narrow;
  const { nodes, edges } = useMemo(() => {
    const deps = effectiveDependencies(steps, workflowType);
    const column = columns(steps, deps);
    const rowOf: Record<number, number> = {};
    const nodes: Node<StepNodeData>[] = steps.map((step) => {
      const col = column[step.id] ?? 0;
      const row = (rowOf[col] = (rowOf[col] ?? -1) + 1);
      const view = views?.[step.id];
      const agentId = view?.agentId ?? null;
      return {
        id: step.id,
        type: "step",
        position: vertical ? { x: row * 210, y: col * 140 } : { x: col * 230, y: row * 120 },
        data: { step, vertical, view, agentName: agentId ? (agentNames[agentId] ?? agentId.slice(0, 8)) : undefined },
        draggable: false,
        connectable: false,
      };
    });
    const edges: Edge[] = steps.flatMap((step) =>
      (deps[step.id] ?? []).map((dep) => ({
        id: `${dep}->${step.id}`,
        source: dep,
        target: step.id,
        animated: views?.[step.id]?.status === "running",
      })),
    );
    return { nodes, edges };
  }, [steps, workflowType, views, agentNames, vertical]);

  if (steps.length === 0) {
    return (
      <div className="graph-empty" style={{ height }}>
        Add a step to see the workflow graph.
      </div>
    );
  }
  // Keyed by the layout: a changed shape remounts the flow, so the view fits it again.
  return (
    <div className="graph" style={{ height }} aria-label="Workflow graph">
      <ReactFlow
        key={nodes.map((n) => `${n.id}@${n.position.x},${n.position.y}`).join("|")}
        nodes={nodes}
        edges={edges}
        nodeTypes={nodeTypes}
        fitView
        fitViewOptions={{ padding: 0.2, maxZoom: 1 }}
        nodesConnectable={false}
        nodesDraggable={false}
        minZoom={0.2}
      >
        <Background gap={16} size={1} />
        <Controls showInteractive={false} />
      </ReactFlow>
    </div>
  );
}

export function StatusLegend() {
  return (
    <div className="legend">
      {Object.entries(STATUS_COLOURS).map(([status, c]) => (
        <span key={status} className="legend-item">
          <span className="legend-swatch" style={{ background: c.background, borderColor: c.border }} />
          {c.label}
        </span>
      ))}
    </div>
  );
}
