// Connecting two steps by dragging in the builder's graph: the target comes to depend on the
// source, unless that makes no sense (the same step, already connected) or would make a loop,
// which the engine could never run; then the user is told why, in step names.
import type { WorkflowStep, WorkflowType } from "../api/types";
import { effectiveDependencies } from "../components/graphLayout";

/** The steps from `from` back to `to` through what each waits for (`[from, …, to]`), or null. */
export function waitsFor(deps: Record<string, string[]>, from: string, to: string): string[] | null {
  const seen = new Set<string>();
  const walk = (id: string): string[] | null => {
    if (id === to) return [id];
    if (seen.has(id)) return null;
    seen.add(id);
    for (const dep of deps[id] ?? []) {
      const path = walk(dep);
      if (path) return [id, ...path];
    }
    return null;
  };
  return walk(from);
}

/** Why `target` cannot come to depend on `source`, or null when it can. */
export function connectionProblem(steps: WorkflowStep[], workflowType: WorkflowType, source: string, target: string): string | null {
  const name = (id: string) => `“${steps.find((s) => s.id === id)?.name || id}”`;
  if (source === target) return "A step cannot depend on itself.";
  const deps = effectiveDependencies(steps, workflowType);
  if ((deps[target] ?? []).includes(source)) return `${name(target)} already depends on ${name(source)}.`;
  const loop = waitsFor(deps, source, target);
  if (loop) {
    const through = loop.slice(1, -1);
    return `${name(source)} already waits for ${name(target)}${through.length ? ` (through ${through.map(name).join(", ")})` : ""}, so ${name(target)} cannot depend on it: each would wait for the other for ever.`;
  }
  return null;
}
