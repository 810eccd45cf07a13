import { describe, expect, it } from "vitest";
import type { WorkflowStep } from "../api/types";
import { emptyStep } from "../builder/WorkflowBuilder";
import { LAYERS_PER_BAND, NODE_HEIGHT, NODE_WIDTH, WIDE_LAYER, groupId, layoutGraph } from "./graphLayout";

const step = (id: string, dependsOn: string[] = []): WorkflowStep => ({ ...emptyStep(0, []), id, name: id, dependsOn });
const fanOut = (width: number) => [
  step("plan"),
  ...Array.from({ length: width }, (_, i) => step(`t${i}`, ["plan"])),
  step("merge", Array.from({ length: width }, (_, i) => `t${i}`)),
];

describe("layoutGraph", () => {
  it("wraps a 300-step pipeline into bands a screen wide, in reading order, quickly", () => {
    const steps = Array.from({ length: 300 }, (_, i) => step(`s${i}`));
    const started = performance.now();
    const layout = layoutGraph(steps, "pipeline");
    expect(performance.now() - started).toBeLessThan(200);
    expect(layout.nodes).toHaveLength(300);
    // Six layers per band: the graph is about six nodes wide, and 50 bands tall.
    expect(layout.width).toBeLessThan((NODE_WIDTH + 80) * LAYERS_PER_BAND);
    const bandStarts = layout.nodes.filter((n) => n.layer % LAYERS_PER_BAND === 0);
    expect(bandStarts).toHaveLength(50);
    expect(new Set(bandStarts.map((n) => n.x)).size).toBe(1);
    for (let i = 1; i < bandStarts.length; i++) expect(bandStarts[i].y).toBeGreaterThan(bandStarts[i - 1].y + NODE_HEIGHT);
    // No two nodes overlap.
    const spots = new Set(layout.nodes.map((n) => `${Math.round(n.x)},${Math.round(n.y)}`));
    expect(spots.size).toBe(300);
  });

  it("folds a 64-wide layer into one group until it is expanded", () => {
    const folded = layoutGraph(fanOut(64), "parallel");
    expect(folded.nodes.map((n) => n.id)).toEqual(["plan", groupId(1), "merge"]);
    expect(folded.nodes[1].members).toHaveLength(64);
    expect(folded.shownAs.t17).toBe(groupId(1));
    expect(folded.edges.map((e) => e.id)).toEqual([`plan->${groupId(1)}`, `${groupId(1)}->merge`]);

    const open = layoutGraph(fanOut(64), "parallel", { expanded: new Set([1]) });
    expect(open.nodes).toHaveLength(66);
    expect(open.edges).toHaveLength(128);
    // The plan and merge steps sit level with the middle of the fan.
    const ys = open.nodes.filter((n) => n.layer === 1).map((n) => n.y);
    const middle = (Math.min(...ys) + Math.max(...ys)) / 2;
    expect(Math.abs(open.nodes.find((n) => n.id === "plan")!.y - middle)).toBeLessThan(NODE_HEIGHT);
  });

  it("leaves a layer of up to WIDE_LAYER steps unfolded", () => {
    const layout = layoutGraph(fanOut(WIDE_LAYER), "parallel");
    expect(layout.nodes.every((n) => n.kind === "step")).toBe(true);
  });
});
