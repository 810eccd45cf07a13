import { describe, expect, it } from "vitest";
import type { ExecutionEvent, TextDelta } from "../api/types";
import { applyDelta, applyStepEvent, latestWords, type LiveWriting } from "./liveText";

const delta = (text: string, extra: Partial<TextDelta> = {}): TextDelta => ({
  kind: "text.delta", executionId: "e1", userId: "u1", stepId: "plan", attempt: 1, agentId: "a1",
  agentName: "Ada", call: 1, part: "text", tool: null, offset: 0, text, ...extra,
});
const event = (kind: string, data: Record<string, unknown> = {}): ExecutionEvent => ({
  id: 1, executionId: "e1", userId: "u1", kind, stepId: "plan", data, createdAt: "",
});

describe("what the agents are writing", () => {
  it("grows a step's text piece by piece, and starts afresh on a new call or agent", () => {
    let state: LiveWriting = {};
    state = applyDelta(state, delta("The plan: "));
    state = applyDelta(state, delta("ship it.", { offset: 10 }));
    expect(state.plan).toMatchObject({ agentName: "Ada", text: "The plan: ship it." });
    state = applyDelta(state, delta('{"query": "x"}', { call: 2, part: "tool_call", tool: "search_knowledge" }));
    expect(state.plan).toMatchObject({ tool: "search_knowledge", text: '{"query": "x"}' });
    state = applyDelta(state, delta("Looks right.", { agentId: "a2", agentName: "Grace", call: 1 }));
    expect(state.plan).toMatchObject({ agentName: "Grace", text: "Looks right." });
  });

  it("drops a step's text when its state changes, and ignores an older attempt's late pieces", () => {
    let state = applyDelta({}, delta("first go"));
    expect(applyStepEvent(state, event("tool.called"))).toBe(state);
    expect(applyStepEvent(state, event("step.started", { attempt: 1 }))).toBe(state);
    state = applyDelta(state, delta("second go", { attempt: 2 }));
    expect(applyDelta(state, delta("late", { attempt: 1 }))).toBe(state);
    expect(applyStepEvent(state, event("step.completed", { attempt: 2 }))).toEqual({});
  });

  it("shows the latest words on one line", () => {
    expect(latestWords("a\n\nb  c")).toBe("a b c");
    const long = Array.from({ length: 100 }, (_, i) => `word${i}`).join(" ");
    const shown = latestWords(long, 50);
    expect(shown.startsWith("…word")).toBe(true);
    expect(shown.endsWith("word99")).toBe(true);
  });
});
