// Live updates: one EventSource per view on the server's SSE stream (no polling loop).
// The browser's EventSource reconnects by itself and sends `Last-Event-ID`, so no event is lost.
import { useEffect, useRef, useState } from "react";
import { API_BASE } from "./client";
import type { ExecutionEvent, TextDelta } from "./types";

/** Every event kind of docs/contracts.md; EventSource only delivers named events we listen to. */
export const EVENT_KINDS = [
  "execution.created",
  "execution.status",
  "execution.progress",
  "step.started",
  "step.completed",
  "step.failed",
  "step.retrying",
  "step.skipped",
  "step.cancelled",
  "interaction.created",
  "interaction.answered",
  "knowledge.created",
  "knowledge.updated",
  "tool.called",
  "approval.requested",
  "approval.decided",
  "workspace.file_written",
] as const;

export type StreamState = "connecting" | "live" | "reconnecting" | "off";

/**
 * Subscribes to `path` (e.g. `/executions/{id}/events`, or `/events` for all of the user's
 * executions) while `path` is not null, calling `onEvent` for each event in order, and
 * `onText` (if given) with each piece of what an agent is writing (`text.delta` frames).
 */
export function useEventStream(
  path: string | null,
  onEvent: (event: ExecutionEvent) => void,
  onText?: (delta: TextDelta) => void,
): StreamState {
  const [state, setState] = useState<StreamState>(path ? "connecting" : "off");
  const handler = useRef(onEvent);
  handler.current = onEvent;
  const textHandler = useRef(onText);
  textHandler.current = onText;

  useEffect(() => {
    if (!path || typeof EventSource === "undefined") {
      setState("off");
      return;
    }
    setState("connecting");
    const source = new EventSource(API_BASE + path, { withCredentials: true });
    const deliver = (message: MessageEvent<string>) => {
      try {
        handler.current(JSON.parse(message.data) as ExecutionEvent);
      } catch {
        // A frame that is not an ExecutionEvent (e.g. a keep-alive) carries nothing to show.
      }
    };
    for (const kind of EVENT_KINDS) source.addEventListener(kind, deliver);
    source.addEventListener("text.delta", (message: MessageEvent<string>) => {
      try {
        textHandler.current?.(JSON.parse(message.data) as TextDelta);
      } catch {
        // A malformed piece only costs the show; the recorded result is the truth.
      }
    });
    source.onmessage = deliver;
    source.onopen = () => setState("live");
    source.onerror = () => setState(source.readyState === EventSource.CLOSED ? "off" : "reconnecting");
    return () => source.close();
  }, [path]);

  return state;
}
