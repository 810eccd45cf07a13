// What the agents of a running execution are writing, per step, from the `text.delta` frames:
// the current model call's text of each running step (a new call, attempt or agent starts
// afresh), dropped when the step's state changes (its result is then recorded).
import type { ExecutionEvent, TextDelta } from "../api/types";

/** How much of a call's text is kept: the inspector shows it all, the strip its end. */
export const KEPT_CHARS = 20_000;

export interface Writing {
  attempt: number;
  agentId: string;
  agentName: string;
  call: number;
  part: TextDelta["part"];
  tool: string | null;
  text: string;
}

export type LiveWriting = Record<string, Writing>;

const ENDS = new Set(["step.completed", "step.failed", "step.retrying", "step.skipped", "step.cancelled"]);

export function applyDelta(state: LiveWriting, delta: TextDelta): LiveWriting {
  const current = state[delta.stepId];
  if (current && current.attempt > delta.attempt) return state; // a late piece of an older attempt
  const same = current && current.attempt === delta.attempt && current.agentId === delta.agentId
    && current.call === delta.call && current.tool === delta.tool;
  const text = ((same ? current.text : "") + delta.text).slice(-KEPT_CHARS);
  return {
    ...state,
    [delta.stepId]: {
      attempt: delta.attempt, agentId: delta.agentId, agentName: delta.agentName, call: delta.call,
      part: delta.part, tool: delta.tool, text,
    },
  };
}

/** The writing of a step whose state changed is over: its outcome is in the events now. */
export function applyStepEvent(state: LiveWriting, event: ExecutionEvent): LiveWriting {
  const stepId = event.stepId;
  if (!stepId || !state[stepId]) return state;
  const attempt = Number(event.data.attempt ?? 0);
  const over = ENDS.has(event.kind) || (event.kind === "step.started" && attempt > state[stepId].attempt);
  if (!over) return state;
  const rest = { ...state };
  delete rest[stepId];
  return rest;
}

/** The last `chars` characters of `text`, on one line, cut at a word. */
export function latestWords(text: string, chars = 200): string {
  const flat = text.replace(/\s+/g, " ").trim();
  if (flat.length <= chars) return flat;
  const tail = flat.slice(-chars);
  const space = tail.indexOf(" ");
  return "…" + (space > 0 && space < 30 ? tail.slice(space + 1) : tail);
}
