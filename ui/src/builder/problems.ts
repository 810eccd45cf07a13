// Places the server's validation problems (`field` paths such as
// `configuration.steps[2].dependsOn[0]`) at the form field they are about.
import type { CreateWorkflowRequest, Problem, WorkflowStep } from "../api/types";

/** True when `field` is `path` itself or an element or member of it. */
export function isAt(field: string, path: string): boolean {
  return field === path || field.startsWith(`${path}[`) || field.startsWith(`${path}.`);
}

export const WORKFLOW_FIELDS = [
  "name",
  "description",
  "workflowType",
  "participatingAgents",
  "coordinatorAgentId",
  "configuration.coordination.decisionMaking",
  "configuration.constraints.maxExecutionTime",
  "configuration.constraints.maxRetries",
  "configuration.constraints.maxConcurrency",
  "configuration.constraints.budgetTokens",
  "configuration.constraints.budgetUsd",
];

export const STEP_FIELDS = [
  "id",
  "name",
  "type",
  "assignedAgentRole",
  "preferredAgentId",
  "requiredSkills",
  "dependsOn",
  "instructions",
  "expectedOutput",
  "condition",
  "reviewRequired",
  "reviewerRole",
  "validationCriteria",
  "maxRetries",
  "timeoutMinutes",
  "decisionOptions",
  "subWorkflowId",
];

export const stepPath = (index: number, field?: string) =>
  field ? `configuration.steps[${index}].${field}` : `configuration.steps[${index}]`;

/** Every path the builder shows a field for, given how many steps there are. */
export function fieldPaths(stepCount: number): string[] {
  const paths = [...WORKFLOW_FIELDS];
  for (let i = 0; i < stepCount; i++) paths.push(...STEP_FIELDS.map((f) => stepPath(i, f)));
  return paths;
}

/** Problems at no field: about a step as a whole, or the workflow as a whole. */
export function unplaced(problems: Problem[], stepCount: number): { steps: Record<number, Problem[]>; general: Problem[] } {
  const paths = fieldPaths(stepCount);
  const steps: Record<number, Problem[]> = {};
  const general: Problem[] = [];
  for (const problem of problems) {
    if (paths.some((p) => isAt(problem.field, p))) continue;
    const match = /^configuration\.steps\[(\d+)\]/.exec(problem.field);
    const index = match ? Number(match[1]) : -1;
    if (index >= 0 && index < stepCount) (steps[index] ??= []).push(problem);
    else general.push(problem);
  }
  return { steps, general };
}

/**
 * Checks the builder makes itself, so every structural problem shows at once: the server's
 * field validation stops at the first shape error (a blank name) before its compiler looks for
 * cycles or unknown dependencies. The server's problems are merged in (see `mergeProblems`).
 */
export function localProblems(request: CreateWorkflowRequest): Problem[] {
  const problems: Problem[] = [];
  const steps = request.configuration.steps;
  const label = (i: number) => `step ${i + 1}${steps[i].name.trim() ? ` “${steps[i].name.trim()}”` : ""}`;
  if (!request.name.trim()) problems.push({ field: "name", message: "The workflow needs a name", fix: "type a short name, e.g. Feature development" });
  const seen = new Map<string, number>();
  const ids = new Set(steps.map((s) => s.id));
  steps.forEach((step, i) => {
    if (!step.name.trim()) problems.push({ field: stepPath(i, "name"), message: `Step ${i + 1} needs a name`, fix: "say what the step does, e.g. Write the code" });
    if (!step.id.trim()) problems.push({ field: stepPath(i, "id"), message: `${label(i)} needs an ID`, fix: "use a short word such as build (other steps refer to it by this ID)" });
    else if (seen.has(step.id)) problems.push({ field: stepPath(i, "id"), message: `${label(i)} has the same ID as ${label(seen.get(step.id)!)}`, fix: "give each step its own ID" });
    else seen.set(step.id, i);
    step.dependsOn.forEach((dep, j) => {
      if (!ids.has(dep)) problems.push({ field: `${stepPath(i, "dependsOn")}[${j}]`, message: `${label(i)} depends on a step that does not exist (ID “${dep}”)`, fix: "remove it, or pick one of the steps listed" });
      else if (dep === step.id) problems.push({ field: `${stepPath(i, "dependsOn")}[${j}]`, message: `${label(i)} depends on itself`, fix: "remove it from its own dependencies" });
    });
    for (const key of ["maxRetries", "timeoutMinutes"] as const) {
      const value = step[key];
      if (typeof value === "number" && (value < 0 || !Number.isFinite(value))) {
        problems.push({ field: stepPath(i, key), message: `${key === "maxRetries" ? "Retries" : "Timeout"} of ${label(i)} cannot be negative`, fix: "use 0 or more, or leave it empty for the default" });
      }
    }
  });
  const cycle = findCycle(steps);
  if (cycle) {
    const names = cycle.map((i) => steps[i].name.trim() || steps[i].id);
    problems.push({
      field: `${stepPath(cycle[0], "dependsOn")}`,
      message: `These steps wait for each other in a circle: ${names.join(" → ")}`,
      fix: "remove one of these dependencies so the steps can run in an order",
    });
  }
  const constraints = request.configuration.constraints;
  for (const [key, label, min] of [["maxRetries", "Retries per step", 0], ["maxExecutionTime", "Time limit", 0], ["maxConcurrency", "Steps at once", 1]] as const) {
    const value = constraints[key];
    if (typeof value === "number" && value < min) problems.push({ field: `configuration.constraints.${key}`, message: `${label} must be ${min} or more`, fix: `use ${min} or more` });
  }
  return problems;
}

/** The indices of the steps of one dependency cycle (first step repeated at the end), if any. */
export function findCycle(steps: WorkflowStep[]): number[] | null {
  const index = new Map(steps.map((s, i) => [s.id, i]));
  const state = new Array<number>(steps.length).fill(0); // 0 new, 1 on the path, 2 done
  const path: number[] = [];
  const visit = (i: number): number[] | null => {
    state[i] = 1;
    path.push(i);
    for (const dep of steps[i].dependsOn) {
      const j = index.get(dep);
      if (j === undefined || j === i) continue;
      if (state[j] === 1) return [...path.slice(path.indexOf(j)), j];
      if (state[j] === 0) {
        const found = visit(j);
        if (found) return found;
      }
    }
    path.pop();
    state[i] = 2;
    return null;
  };
  for (let i = 0; i < steps.length; i++) {
    if (state[i] === 0) {
      const found = visit(i);
      if (found) return found.reverse();
    }
  }
  return null;
}

const LIBRARY_WORDS: [RegExp, string][] = [
  [/^Value error, /, ""],
  [/String should have at least 1 character/, "must not be empty"],
  [/Input should be greater than or equal to (\S+)/, "must be $1 or more"],
  [/Input should be greater than (\S+)/, "must be more than $1"],
  [/Input should be less than or equal to (\S+)/, "must be $1 or less"],
  [/Input should be a valid integer.*/, "must be a whole number"],
  [/Input should be a valid number.*/, "must be a number"],
  [/^Field required$/, "is required"],
];

/** The server's message in the user's words: step names instead of IDs, no library phrasing. */
export function humanize(problem: Problem, steps: WorkflowStep[]): Problem {
  const names = new Map(steps.filter((s) => s.name.trim()).map((s) => [s.id, s.name.trim()]));
  const named = (text: string) =>
    text
      .replace(/step '([^']+)'/g, (whole, id: string) => (names.has(id) ? `step “${names.get(id)}”` : whole))
      .replace(/cycle: ([^()]+)/, (_, chain: string) => `cycle: ${chain.split(" -> ").map((id) => names.get(id.trim()) ?? id.trim()).join(" → ")}`);
  let message = problem.message;
  for (const [pattern, words] of LIBRARY_WORDS) message = message.replace(pattern, words);
  return { ...problem, message: named(message), fix: named(problem.fix) };
}

/** Local and server problems together, once each (the same field and meaning counted once). */
export function mergeProblems(local: Problem[], server: Problem[]): Problem[] {
  const localFields = new Set(local.map((p) => p.field.replace(/\[\d+\]$/, "")));
  // The server repeats what the builder already says (a blank name, an unknown dependency,
  // a cycle) in its own words: keep the builder's, and the server's on any other field.
  const kept = server.filter((p) => !localFields.has(p.field.replace(/\[\d+\]$/, "")) && !(p.message.includes("cycle") && local.some((l) => l.message.includes("circle"))));
  return [...local, ...kept];
}
