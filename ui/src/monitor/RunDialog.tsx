// Start (or run again) with inputs. Workflows declare no input fields, so the inputs are a JSON
// object, checked as it is typed; a run again starts from the previous run's inputs.
import { useEffect, useRef, useState } from "react";

/** The inputs typed, or why they are not a JSON object (with where, in the user's words). */
export function parseInputs(text: string): { inputs: Record<string, unknown> } | { error: string } {
  if (!text.trim()) return { inputs: {} };
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (e) {
    const where = /position (\d+)/.exec(String(e));
    const at = where ? lineAndColumn(text, Number(where[1])) : null;
    return { error: `This is not valid JSON${at ? ` (line ${at[0]}, column ${at[1]})` : ""}. Write an object such as {"topic": "billing"}.` };
  }
  if (value === null || typeof value !== "object" || Array.isArray(value)) {
    return { error: 'Inputs are an object of named values, such as {"topic": "billing"}, not a list or a single value.' };
  }
  return { inputs: value as Record<string, unknown> };
}

function lineAndColumn(text: string, position: number): [number, number] {
  const before = text.slice(0, position).split("\n");
  return [before.length, before[before.length - 1].length + 1];
}

export function RunDialog({ title, initial, busy, error, onRun, onClose }: {
  title: string;
  initial: Record<string, unknown>;
  busy: boolean;
  error?: string;
  onRun: (inputs: Record<string, unknown>) => void;
  onClose: () => void;
}) {
  const dialog = useRef<HTMLDialogElement>(null);
  const [text, setText] = useState(Object.keys(initial).length ? JSON.stringify(initial, null, 2) : "");
  const parsed = parseInputs(text);
  useEffect(() => {
    const d = dialog.current;
    if (d && !d.open) d.showModal?.();
  }, []);
  return (
    <dialog ref={dialog} className="run-dialog" aria-labelledby="run-dialog-title" onClose={onClose} onCancel={onClose}>
      <form
        className="form"
        onSubmit={(e) => {
          e.preventDefault();
          if ("inputs" in parsed) onRun(parsed.inputs);
        }}
      >
        <h2 id="run-dialog-title">{title}</h2>
        <div className={`field${"error" in parsed ? " invalid" : ""}`}>
          <label htmlFor="run-inputs">Inputs (JSON, optional)</label>
          <textarea id="run-inputs" rows={8} value={text} spellCheck={false} className="mono"
            placeholder='{"topic": "billing", "audience": "support team"}'
            aria-invalid={"error" in parsed} aria-describedby="run-inputs-help"
            onChange={(e) => setText(e.target.value)} />
          <div id="run-inputs-help" className={"error" in parsed ? "error-text small" : "hint"} role={"error" in parsed ? "alert" : undefined}>
            {"error" in parsed ? parsed.error : "Every step can read these values. Leave empty to run without inputs."}
          </div>
        </div>
        {error && <div className="error-state" role="alert">{error}</div>}
        <div className="actions end">
          <button type="button" className="button secondary" onClick={onClose}>Cancel</button>
          <button type="submit" className="button" disabled={busy || "error" in parsed}>{busy ? "Starting…" : "Start the run"}</button>
        </div>
      </form>
    </dialog>
  );
}
