// The steps of a workflow as a graph: a live preview in the builder, and the live state of an
// execution in the monitor (each node coloured by its status, with the agent working on it).
// Big workflows stay legible (see graphLayout.ts); the graph is one tab stop, arrow keys move
// between steps, Enter opens one, and the mouse wheel scrolls the page unless the graph has focus.
import { memo, useCallback, useEffect, useMemo, useRef, useState, type KeyboardEvent } from "react";
import {
  Background,
  Handle,
  MiniMap,
  Position,
  ReactFlow,
  ReactFlowProvider,
  useReactFlow,
  type Edge,
  type Node,
  type NodeProps,
} from "@xyflow/react";
import "@xyflow/react/dist/style.css";
import type { WorkflowStep, WorkflowType } from "../api/types";
import type { StepStatus, StepView } from "../monitor/liveState";
import { NODE_HEIGHT, NODE_WIDTH, layoutGraph, type LaidOutNode } from "./graphLayout";

export { effectiveDependencies } from "./graphLayout";

/** Border and fill per status, and a text colour with at least 4.5:1 contrast on the fill. */
export const STATUS_COLOURS: Record<StepStatus, { border: string; background: string; text: string; label: string }> = {
  waiting: { border: "#64748b", background: "#f8fafc", text: "#475569", label: "Waiting" },
  running: { border: "#2563eb", background: "#eff6ff", text: "#1d4ed8", label: "Running" },
  retrying: { border: "#d97706", background: "#fffbeb", text: "#92400e", label: "Retrying" },
  completed: { border: "#16a34a", background: "#f0fdf4", text: "#166534", label: "Completed" },
  failed: { border: "#dc2626", background: "#fef2f2", text: "#b91c1c", label: "Failed" },
  skipped: { border: "#a1a1aa", background: "#f4f4f5", text: "#52525b", label: "Skipped" },
  cancelled: { border: "#71717a", background: "#f4f4f5", text: "#3f3f46", label: "Cancelled" },
};

/** What a status means, for a hover title: the recorded reason when there is one. */
export function statusTitle(view: StepView | undefined, paused = false): string {
  if (!view) return "";
  const label = STATUS_COLOURS[view.status].label;
  if (view.status === "running" && paused) return "Running: this attempt finishes; nothing new starts until you resume";
  const why = view.status === "failed" ? view.error : view.reason ?? (view.status === "completed" ? view.summary : null);
  return why ? `${label}: ${why}` : label;
}

interface StepNodeData extends Record<string, unknown> {
  step: WorkflowStep;
  vertical: boolean;
  view?: StepView;
  agentName?: string;
  active: boolean;
  selected: boolean;
  paused: boolean;
  domId: string;
}

const StepNode = memo(function StepNode({ data }: NodeProps<Node<StepNodeData>>) {
  const status = data.view?.status;
  const colours = status ? STATUS_COLOURS[status] : undefined;
  const classes = ["step-node", status ? `status-${status}` : "", data.active ? "kbd-active" : "", data.selected ? "selected" : ""];
  return (
    <div
      id={data.domId}
      className={classes.filter(Boolean).join(" ")}
      data-testid={`step-node-${data.step.id}`}
      data-status={status ?? "preview"}
      style={colours ? { borderColor: colours.border, background: colours.background } : undefined}
      title={data.view ? statusTitle(data.view, data.paused) : data.step.description}
    >
      <Handle type="target" position={data.vertical ? Position.Top : Position.Left} />
      <div className="step-node-name" dir="auto"><bdi>{data.step.name || data.step.id}</bdi></div>
      <div className="step-node-meta">
        {data.step.type}
        {data.step.reviewRequired ? " · reviewed" : ""}
        {data.step.condition ? " · conditional" : ""}
      </div>
      {colours && (
        <div className="step-node-status" style={{ color: colours.text }}>
          {data.paused && status === "running" ? "Finishing (paused)" : colours.label}
          {data.view && data.view.attempt > 1 ? ` (attempt ${data.view.attempt})` : ""}
        </div>
      )}
      {data.agentName && <div className="step-node-agent" dir="auto"><bdi>{data.agentName}</bdi></div>}
      <Handle type="source" position={data.vertical ? Position.Bottom : Position.Right} />
    </div>
  );
});

interface GroupNodeData extends Record<string, unknown> {
  count: number;
  layer: number;
  counts: [StepStatus | "preview", number][];
  active: boolean;
  vertical: boolean;
  domId: string;
}

const GroupNode = memo(function GroupNode({ data }: NodeProps<Node<GroupNodeData>>) {
  return (
    <div
      id={data.domId}
      className={`step-node group-node${data.active ? " kbd-active" : ""}`}
      data-testid={`step-group-${data.layer}`}
      title="Click to show every step of this layer"
    >
      <Handle type="target" position={data.vertical ? Position.Top : Position.Left} />
      <div className="step-node-name">{data.count} parallel steps</div>
      <div className="group-counts">
        {data.counts.map(([status, n]) => (
          <span key={status} style={status === "preview" ? undefined : { color: STATUS_COLOURS[status].text }}>
            {n} {status === "preview" ? "steps" : STATUS_COLOURS[status].label.toLowerCase()}
          </span>
        ))}
      </div>
      <div className="step-node-meta">Click to expand</div>
      <Handle type="source" position={data.vertical ? Position.Bottom : Position.Right} />
    </div>
  );
});

// Not "group": React Flow styles its own built-in group type.
const nodeTypes = { step: StepNode, fold: GroupNode };

interface StepGraphProps {
  steps: WorkflowStep[];
  workflowType: WorkflowType;
  /** Live state per step ID; without it the graph is a preview of the definition. */
  views?: Record<string, StepView>;
  agentNames?: Record<string, string>;
  height?: number;
  /** Top to bottom (for narrow panels) instead of left to right; by default only on a narrow window. */
  vertical?: boolean;
  /** The step shown in the inspector (or the editor), highlighted in the graph. */
  selectedId?: string | null;
  /** A step was clicked, or chosen with Enter or by the search. */
  onSelect?: (stepId: string) => void;
  /** The execution is paused: running steps are finishing, nothing new starts. */
  paused?: boolean;
  /** Given (the builder), a drag from one step's handle to another step asks that the second
   * depend on the first. */
  onConnect?: (sourceId: string, targetId: string) => void;
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

/** Memoised: a page that re-renders for other reasons (a keystroke in the builder's form) does
 * not redraw a graph whose props are unchanged. */
export const StepGraph = memo(function StepGraph(props: StepGraphProps) {
  if (props.steps.length === 0) {
    return (
      <div className="graph-empty" style={{ height: props.height ?? 320 }}>
        Add a step to see the workflow graph.
      </div>
    );
  }
  return (
    <ReactFlowProvider>
      <GraphView {...props} />
    </ReactFlowProvider>
  );
});

function GraphView({ steps, workflowType, views, agentNames = {}, height = 320, vertical: verticalProp, selectedId = null, onSelect, paused = false, onConnect }: StepGraphProps) {
  const narrow = useNarrowWindow();
  const vertical = verticalProp ?? narrow;
  const flow = useReactFlow();
  const box = useRef<HTMLDivElement>(null);
  const [expanded, setExpanded] = useState<ReadonlySet<number>>(new Set());
  const [active, setActive] = useState<string | null>(null);
  const [focused, setFocused] = useState(false);
  const [find, setFind] = useState("");
  const [findMessage, setFindMessage] = useState("");
  const pendingCentre = useRef<string | null>(null);

  // Laid out again only when the shape changes (IDs, dependencies), not on every renamed step.
  const shapeKey = steps.map((s) => `${s.id}>${(s.dependsOn ?? []).join(",")}`).join("|");
  const layout = useMemo(() => layoutGraph(steps, workflowType, { expanded, vertical }), [shapeKey, workflowType, expanded, vertical]); // eslint-disable-line react-hooks/exhaustive-deps
  const byId = useMemo(() => new Map(steps.map((s) => [s.id, s])), [steps]);
  const domIds = useMemo(() => new Map(layout.nodes.map((n, i) => [n.id, `gnode-${i}`])), [layout]);
  const selectedShown = selectedId ? layout.shownAs[selectedId] : undefined;

  // A node object is reused while everything it shows is unchanged, so React Flow re-renders only
  // the nodes that changed (typing a step's name in the builder redraws that one node).
  const cache = useRef(new Map<string, { inputs: unknown[]; node: Node }>());
  const nodes = useMemo(() => {
    const reuse = (id: string, inputs: unknown[], make: () => Node): Node => {
      const cached = cache.current.get(id);
      if (cached && cached.inputs.length === inputs.length && cached.inputs.every((v, i) => v === inputs[i])) return cached.node;
      const node = make();
      cache.current.set(id, { inputs, node });
      return node;
    };
    return layout.nodes.map((n): Node => {
      const domId = domIds.get(n.id)!;
      if (n.kind === "group") {
        const tally = new Map<StepStatus | "preview", number>();
        for (const id of n.members) {
          const status = views?.[id]?.status ?? "preview";
          tally.set(status, (tally.get(status) ?? 0) + 1);
        }
        const counts = [...tally];
        return reuse(n.id, [n, JSON.stringify(counts), active === n.id, vertical, domId], () => ({
          id: n.id, type: "fold", position: { x: n.x, y: n.y }, draggable: false, connectable: false,
          width: NODE_WIDTH, height: NODE_HEIGHT,
          data: { count: n.members.length, layer: n.layer, counts, active: active === n.id, vertical, domId } satisfies GroupNodeData,
        }));
      }
      const step = byId.get(n.id)!;
      const view = views?.[n.id];
      const agentId = view?.agentId ?? null;
      const agentName = agentId ? (agentNames[agentId] ?? agentId.slice(0, 8)) : undefined;
      const isActive = active === n.id;
      const isSelected = selectedShown === n.id;
      return reuse(n.id, [n, step, view, agentName, isActive, isSelected, paused, vertical, domId], () => ({
        id: n.id, type: "step", position: { x: n.x, y: n.y }, draggable: false, connectable: false,
        width: NODE_WIDTH, height: NODE_HEIGHT,
        data: { step, vertical, view, paused, domId, agentName, active: isActive, selected: isSelected } satisfies StepNodeData,
      }));
    });
  }, [layout, views, agentNames, vertical, byId, domIds, active, selectedShown, paused]);

  const edges = useMemo(() => {
    const band = new Map(layout.nodes.map((n) => [n.id, n.band]));
    return layout.edges.map((e): Edge => ({
      id: e.id, source: e.source, target: e.target, type: "smoothstep",
      animated: views?.[e.target]?.status === "running",
      // An edge that wraps to the next band is drawn faint, so the bands read as lines.
      className: band.get(e.source) !== band.get(e.target) ? "wrap-edge" : undefined,
    }));
  }, [layout, views]);

  // Opens on something legible: the whole graph if it fits at a readable zoom, else its start.
  const placeView = useCallback(() => {
    const width = box.current?.clientWidth ?? 800;
    const fit = Math.min(1, width / (layout.width + 20), height / (layout.height + 20));
    if (fit >= 0.55) {
      void flow.fitView({ padding: 0.08, maxZoom: 1 });
    } else {
      const zoom = Math.max(0.55, Math.min(1, width / (layout.width + 20)));
      void flow.setViewport({ x: 0, y: 0, zoom });
    }
  }, [flow, layout, height]);
  useEffect(() => {
    const t = window.setTimeout(placeView, 0);
    return () => window.clearTimeout(t);
  }, [placeView]);

  const centreOn = useCallback((id: string) => {
    const node = layout.nodes.find((n) => n.id === id);
    if (!node) return;
    void flow.setCenter(node.x + NODE_WIDTH / 2, node.y + NODE_HEIGHT / 2, { zoom: Math.max(flow.getZoom(), 0.8), duration: 200 });
  }, [flow, layout]);

  // Arrow keys: right/down the dependency arrows, left/up back, and across a layer.
  const neighbours = useMemo(() => {
    const next = new Map<string, string[]>();
    const prev = new Map<string, string[]>();
    for (const e of layout.edges) {
      next.set(e.source, [...(next.get(e.source) ?? []), e.target]);
      prev.set(e.target, [...(prev.get(e.target) ?? []), e.source]);
    }
    const byLayer = new Map<number, LaidOutNode[]>();
    for (const n of layout.nodes) byLayer.set(n.layer, [...(byLayer.get(n.layer) ?? []), n]);
    for (const list of byLayer.values()) list.sort((a, b) => (vertical ? a.x - b.x : a.y - b.y));
    return { next, prev, byLayer };
  }, [layout, vertical]);

  const choose = (id: string) => {
    const node = layout.nodes.find((n) => n.id === id);
    if (node?.kind === "group") setExpanded((e) => new Set([...e, node.layer]));
    else onSelect?.(id);
  };

  const onKeyDown = (event: KeyboardEvent<HTMLDivElement>) => {
    if (event.target !== event.currentTarget) return;
    const current = layout.nodes.find((n) => n.id === active) ?? layout.nodes[0];
    if (!current) return;
    const sideways = (by: number) => {
      const row = neighbours.byLayer.get(current.layer) ?? [];
      return row[row.indexOf(current) + by]?.id;
    };
    const forward = vertical ? "ArrowDown" : "ArrowRight";
    const back = vertical ? "ArrowUp" : "ArrowLeft";
    const up = vertical ? "ArrowLeft" : "ArrowUp";
    const down = vertical ? "ArrowRight" : "ArrowDown";
    let target: string | undefined;
    if (event.key === forward) target = neighbours.next.get(current.id)?.[0];
    else if (event.key === back) target = neighbours.prev.get(current.id)?.[0];
    else if (event.key === up) target = sideways(-1);
    else if (event.key === down) target = sideways(1);
    else if (event.key === "Home") target = layout.nodes[0]?.id;
    else if (event.key === "Enter" || event.key === " ") {
      event.preventDefault();
      choose(current.id);
      return;
    } else if (event.key === "+" || event.key === "=") void flow.zoomIn();
    else if (event.key === "-") void flow.zoomOut();
    else if (event.key === "0") placeView();
    else return;
    event.preventDefault();
    const id = target ?? current.id;
    setActive(id);
    centreOn(id);
  };

  const findStep = (text: string) => {
    const wanted = text.trim().toLowerCase();
    if (!wanted) return;
    const match = steps.find((s) => s.name.toLowerCase() === wanted || s.id.toLowerCase() === wanted) ??
      steps.find((s) => s.name.toLowerCase().includes(wanted) || s.id.toLowerCase().includes(wanted));
    if (!match) {
      setFindMessage(`No step is called “${text.trim()}”.`);
      return;
    }
    setFindMessage("");
    const layer = layout.nodes.find((n) => n.members.includes(match.id))?.layer;
    setActive(match.id);
    onSelect?.(match.id);
    if (layout.shownAs[match.id] === match.id) {
      centreOn(match.id);
    } else if (layer !== undefined) {
      // Unfold its layer first; the effect below centres on it once the layout has changed.
      pendingCentre.current = match.id;
      setExpanded((e) => new Set([...e, layer]));
    }
  };
  useEffect(() => {
    const id = pendingCentre.current;
    if (id && layout.shownAs[id] === id) {
      pendingCentre.current = null;
      const t = window.setTimeout(() => centreOn(id), 50);
      return () => window.clearTimeout(t);
    }
  }, [layout, centreOn]);

  const wide = layout.nodes.length > 8;
  return (
    <div className="graph-wrap">
      {wide && (
        <form className="graph-find" role="search" onSubmit={(e) => { e.preventDefault(); findStep(find); }}>
          <input type="search" aria-label="Find a step by name" placeholder="Find a step by name" value={find}
            list="graph-step-names" onChange={(e) => setFind(e.target.value)} />
          <datalist id="graph-step-names">
            {steps.map((s) => <option key={s.id} value={s.name || s.id} />)}
          </datalist>
          <button className="button secondary small" type="submit">Find</button>
          {expanded.size > 0 && (
            <button className="button secondary small" type="button" onClick={() => setExpanded(new Set())}>Fold wide layers</button>
          )}
          {findMessage && <span className="error-text small" role="status">{findMessage}</span>}
        </form>
      )}
      <div
        ref={box}
        className={`graph${focused ? " focused" : ""}`}
        style={{ height }}
        tabIndex={0}
        role="application"
        aria-label={`Workflow graph, ${steps.length} steps. Arrow keys move between steps, Enter opens one, plus and minus zoom.`}
        aria-activedescendant={active && domIds.get(active) ? domIds.get(active) : undefined}
        onKeyDown={onKeyDown}
        onFocus={(e) => { if (e.target === e.currentTarget) { setFocused(true); if (!active && layout.nodes[0]) setActive(layout.nodes[0].id); } }}
        onBlur={(e) => { if (!e.currentTarget.contains(e.relatedTarget as globalThis.Node | null)) setFocused(false); }}
      >
        <ReactFlow
          nodes={nodes}
          edges={edges}
          nodeTypes={nodeTypes}
          nodesConnectable={!!onConnect}
          onConnect={onConnect && (({ source, target }) => {
            // A folded group is not a step: only step-to-step drags connect.
            if (byId.has(source) && byId.has(target)) onConnect(source, target);
          })}
          nodesDraggable={false}
          nodesFocusable={false}
          edgesFocusable={false}
          elementsSelectable={false}
          zoomOnScroll={focused}
          preventScrolling={focused}
          minZoom={0.1}
          maxZoom={1.5}
          onlyRenderVisibleElements={layout.nodes.length > 60}
          onNodeClick={(_, node) => { setActive(node.id); choose(node.id); }}
          proOptions={{ hideAttribution: true }}
        >
          <Background gap={16} size={1} />
          {wide && !verticalProp && <MiniMap pannable zoomable ariaLabel="Overview of the graph" nodeColor={(n) => minimapColour(n, views)} />}
          <div className="graph-zoom" aria-hidden="true">
            <button type="button" tabIndex={-1} title="Zoom in" onClick={() => void flow.zoomIn()}>+</button>
            <button type="button" tabIndex={-1} title="Zoom out" onClick={() => void flow.zoomOut()}>−</button>
            <button type="button" tabIndex={-1} title="Fit" onClick={placeView}>⤢</button>
          </div>
        </ReactFlow>
      </div>
      {!focused && wide && <p className="hint">Click the graph (or Tab to it) to zoom with the wheel; arrow keys move between steps.</p>}
    </div>
  );
}

function minimapColour(node: Node, views?: Record<string, StepView>): string {
  const status = views?.[node.id]?.status;
  return status ? STATUS_COLOURS[status].border : node.type === "fold" ? "#6366f1" : "#c7d2fe";
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
