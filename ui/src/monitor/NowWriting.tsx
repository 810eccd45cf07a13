// The "now writing" strip: the latest words each running step's agent is writing.
import type { LiveWriting } from "./liveText";
import { latestWords } from "./liveText";

export function NowWriting({ writing, stepName, onSelect }: {
  writing: LiveWriting;
  stepName: (id: string) => string;
  onSelect: (stepId: string) => void;
}) {
  const entries = Object.entries(writing).filter(([, w]) => w.text.trim());
  if (entries.length === 0) return null;
  return (
    <section className="now-writing" aria-label="Now writing" data-testid="now-writing">
      <h3>Now writing</h3>
      <ul className="plain-list">
        {entries.map(([stepId, w]) => (
          <li key={stepId} data-testid={`now-writing-${stepId}`}>
            <bdi className="strong">{w.agentName}</bdi>{" · "}
            <button type="button" className="linklike" onClick={() => onSelect(stepId)}><bdi>{stepName(stepId)}</bdi></button>
            {w.tool && <span className="muted"> → {w.tool}</span>}
            <span className="now-writing-text" dir="auto">{latestWords(w.text)}</span>
          </li>
        ))}
      </ul>
    </section>
  );
}
