// Where each step of a workflow graph goes: a layered (Sugiyama-style) layout. Each step sits one
// layer after its deepest dependency; within a layer, steps are ordered by the mean position of
// the steps they depend on (one barycentre sweep), which keeps most edges short and uncrossed.
// Two things keep big workflows legible: a layer wider than WIDE_LAYER steps folds into one
// group node (with counts by status) until the user expands it, and a long run of layers wraps
// into bands, like lines of text, instead of one row tens of thousands of pixels long.
// (dagre took 1.2 s for a 300-step pipeline, too slow for a preview redrawn as the user types;
// this takes a few milliseconds.)
import type { WorkflowStep, WorkflowType } from "../api/types";

export const NODE_WIDTH = 190;
export const NODE_HEIGHT = 86;
/** Layers with more steps than this fold into a group node until expanded. */
export const WIDE_LAYER = 12;
/** Layers per band before a long graph wraps to the next band. */
export const LAYERS_PER_BAND = 6;
const RANK_GAP = 60;
const NODE_GAP = 24;
const BAND_GAP = 70;

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

/** Layer of each step: one more than its deepest dependency (cycles are cut, not looped). */
export function layers(steps: WorkflowStep[], deps: Record<string, string[]>): Record<string, number> {
  const layer: Record<string, number> = {};
  const visiting = new Set<string>();
  const visit = (id: string): number => {
    if (layer[id] !== undefined) return layer[id];
    if (visiting.has(id)) return 0;
    visiting.add(id);
    let depth = 0;
    for (const dep of deps[id] ?? []) depth = Math.max(depth, visit(dep) + 1);
    visiting.delete(id);
    layer[id] = depth;
    return depth;
  };
  steps.forEach((s) => visit(s.id));
  return layer;
}

export const groupId = (layer: number) => `group:${layer}`;

export interface LaidOutNode {
  /** A step ID, or `group:<layer>` for a folded layer. */
  id: string;
  kind: "step" | "group";
  x: number;
  y: number;
  layer: number;
  /** Which band of a wrapped graph it is in (0 when the graph is not wrapped). */
  band: number;
  /** For a group: the step IDs folded into it. */
  members: string[];
}

export interface LaidOutEdge {
  id: string;
  source: string;
  target: string;
}

export interface Layout {
  nodes: LaidOutNode[];
  edges: LaidOutEdge[];
  /** Where each step is drawn: itself, or the group it is folded into. */
  shownAs: Record<string, string>;
  width: number;
  height: number;
}

/**
 * Positions for every shown node. `expanded` lists the layers the user unfolded; `vertical`
 * lays layers top to bottom (narrow screens) and then wraps bands side by side.
 */
export function layoutGraph(
  steps: WorkflowStep[],
  workflowType: WorkflowType,
  options: { expanded?: ReadonlySet<number>; vertical?: boolean } = {},
): Layout {
  const expanded = options.expanded ?? new Set<number>();
  const vertical = options.vertical ?? false;
  const deps = effectiveDependencies(steps, workflowType);
  const layer = layers(steps, deps);

  const byLayer = new Map<number, string[]>();
  for (const step of steps) {
    const l = layer[step.id];
    byLayer.set(l, [...(byLayer.get(l) ?? []), step.id]);
  }
  const shownAs: Record<string, string> = {};
  for (const [l, ids] of byLayer) {
    const folded = ids.length > WIDE_LAYER && !expanded.has(l);
    for (const id of ids) shownAs[id] = folded ? groupId(l) : id;
  }

  const shown = new Map<string, LaidOutNode>();
  for (const step of steps) {
    const id = shownAs[step.id];
    const existing = shown.get(id);
    if (existing) existing.members.push(step.id);
    else shown.set(id, { id, kind: id === step.id ? "step" : "group", x: 0, y: 0, layer: layer[step.id], band: 0, members: [step.id] });
  }
  const edges = new Map<string, LaidOutEdge>();
  const sources = new Map<string, string[]>();
  for (const step of steps) {
    for (const dep of deps[step.id]) {
      const source = shownAs[dep];
      const target = shownAs[step.id];
      const id = `${source}->${target}`;
      if (source === target || edges.has(id)) continue;
      edges.set(id, { id, source, target });
      sources.set(target, [...(sources.get(target) ?? []), source]);
    }
  }

  // Order within each layer by the mean slot of the nodes feeding it, layer by layer.
  const nodes = [...shown.values()];
  const columns: LaidOutNode[][] = [];
  for (const node of nodes) (columns[node.layer] ??= []).push(node);
  const slot = new Map<string, number>();
  const definitionOrder = new Map(nodes.map((n, i) => [n.id, i]));
  for (const column of columns) {
    if (!column) continue;
    const centre = (n: LaidOutNode) => {
      const feeding = (sources.get(n.id) ?? []).map((s) => slot.get(s)).filter((v): v is number => v !== undefined);
      return feeding.length ? feeding.reduce((a, b) => a + b, 0) / feeding.length : definitionOrder.get(n.id)!;
    };
    const centres = new Map(column.map((n) => [n.id, centre(n)]));
    column.sort((a, b) => centres.get(a.id)! - centres.get(b.id)! || definitionOrder.get(a.id)! - definitionOrder.get(b.id)!);
    column.forEach((n, i) => slot.set(n.id, i - (column.length - 1) / 2));
  }
  const tallest = Math.max(1, ...columns.map((c) => c?.length ?? 0));
  const along = (vertical ? NODE_HEIGHT : NODE_WIDTH) + RANK_GAP;
  const across = (vertical ? NODE_WIDTH : NODE_HEIGHT) + NODE_GAP;
  for (const node of nodes) {
    const a = 10 + node.layer * along;
    const c = 10 + (slot.get(node.id)! + (tallest - 1) / 2) * across;
    node.x = vertical ? c : a;
    node.y = vertical ? a : c;
  }
  wrapIntoBands(nodes, vertical);
  const width = Math.max(0, ...nodes.map((n) => n.x + NODE_WIDTH));
  const height = Math.max(0, ...nodes.map((n) => n.y + NODE_HEIGHT));
  return { nodes, edges: [...edges.values()], shownAs, width, height };
}

/**
 * Cuts the layers into bands of LAYERS_PER_BAND and stacks the bands (below each other for a
 * left-to-right graph, beside each other for a top-to-bottom one), each band starting at the
 * left (or top) again, so a 300-step pipeline reads as lines rather than one endless row.
 */
function wrapIntoBands(nodes: LaidOutNode[], vertical: boolean): void {
  const maxLayer = Math.max(0, ...nodes.map((n) => n.layer));
  if (maxLayer < LAYERS_PER_BAND) return;
  const along = (n: LaidOutNode) => (vertical ? n.y : n.x);
  const across = (n: LaidOutNode) => (vertical ? n.x : n.y);
  const bandOf = (n: LaidOutNode) => Math.floor(n.layer / LAYERS_PER_BAND);
  const bands = new Map<number, LaidOutNode[]>();
  for (const n of nodes) bands.set(bandOf(n), [...(bands.get(bandOf(n)) ?? []), n]);
  let offset = 0;
  for (const band of [...bands.keys()].sort((a, b) => a - b)) {
    const members = bands.get(band)!;
    const start = Math.min(...members.map(along));
    const low = Math.min(...members.map(across));
    const high = Math.max(...members.map(across)) + (vertical ? NODE_WIDTH : NODE_HEIGHT);
    for (const n of members) {
      n.band = band;
      const a = along(n) - start + 10;
      const c = across(n) - low + offset + 10;
      if (vertical) {
        n.y = a;
        n.x = c;
      } else {
        n.x = a;
        n.y = c;
      }
    }
    offset += high - low + BAND_GAP;
  }
}
