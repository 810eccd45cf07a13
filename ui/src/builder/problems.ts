// Places the server's validation problems (`field` paths such as
// `configuration.steps[2].dependsOn[0]`) at the form field they are about.
import type { Problem } from "../api/types";

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
