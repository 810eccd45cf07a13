// Everything about one step of one execution: what went in (its instructions and the results of
// the steps it depends on), each attempt (who, how long, tokens, cost, error, review feedback),
// what came out, and what happened on the way (interactions, tool calls, a nested team's run).
import { useEffect, useRef } from "react";
import { Link } from "react-router-dom";
import type { Execution, Interaction, StepRun, ToolApproval, ToolCall, WorkflowStep } from "../api/types";
import { statusTitle, STATUS_COLOURS } from "../components/StepGraph";
import { MarkdownText, StatusBadge, duration, money, tokens } from "../components/ui";
import { ApprovalCard } from "./ApprovalCard";
import type { StepView } from "./liveState";
import type { Writing } from "./liveText";
import { INTERACTION_LABELS } from "./Timeline";

interface InspectorProps {
  step: WorkflowStep;
  steps: WorkflowStep[];
  execution: Execution | undefined;
  view: StepView | undefined;
  dependencies: string[];
  agentNames: Record<string, string>;
  interactions: Interaction[];
  toolCalls: ToolCall[];
  /** What the step's agent is writing right now, while it runs. */
  writing?: Writing;
  /** Tool calls of this step waiting for the user's approval. */
  approvals?: ToolApproval[];
  onDecided?: (decided: ToolApproval) => void;
  paused: boolean;
  onSelect: (stepId: string) => void;
  onClose: () => void;
}

export function StepInspector({ step, steps, execution, view, dependencies, agentNames, interactions, toolCalls, writing, approvals = [], onDecided = () => {}, paused, onSelect, onClose }: InspectorProps) {
  const heading = useRef<HTMLHeadingElement>(null);
  // Moving focus into the panel tells screen readers (and keyboards) where the step opened.
  useEffect(() => heading.current?.focus(), [step.id]);
  const name = (id: string | null) => (id ? (agentNames[id] ?? id.slice(0, 8)) : "—");
  const stepName = (id: string) => steps.find((s) => s.id === id)?.name || id;
  const runs = (execution?.stepRuns ?? []).filter((r) => r.stepId === step.id).sort((a, b) => a.attempt - b.attempt);
  const latest = runs[runs.length - 1];
  const output = latest?.output ?? null;
  const childId = typeof (output?.data as Record<string, unknown> | undefined)?.childExecutionId === "string"
    ? (output!.data as Record<string, string>).childExecutionId : null;
  const latestOf = (id: string) => (execution?.stepRuns ?? []).filter((r) => r.stepId === id).sort((a, b) => b.attempt - a.attempt)[0];

  return (
    <aside className="inspector" aria-labelledby="inspector-title" data-testid="step-inspector"
      onKeyDown={(e) => e.key === "Escape" && onClose()}>
      <header className="inspector-head">
        <div>
          <h2 id="inspector-title" tabIndex={-1} ref={heading} dir="auto"><bdi>{step.name || step.id}</bdi></h2>
          <div className="muted small">
            {step.type} · ID <code>{step.id}</code>
            {view && <> · <span className={`badge badge-${view.status}`} title={statusTitle(view, paused)}>{STATUS_COLOURS[view.status].label}</span></>}
          </div>
        </div>
        <button type="button" className="button secondary small" onClick={onClose} aria-label="Close the step inspector">Close</button>
      </header>
      {view && (view.reason || (paused && view.status === "running")) && (
        <p className="inspector-reason" role="note">{statusTitle(view, paused)}</p>
      )}

      {approvals.length > 0 && (
        <section aria-labelledby="insp-approvals">
          <h3 id="insp-approvals">Waiting for your approval</h3>
          {approvals.map((a) => <ApprovalCard key={a.id} approval={a} stepName={step.name || step.id} onDecided={onDecided} />)}
        </section>
      )}

      <section aria-labelledby="insp-input">
        <h3 id="insp-input">Input</h3>
        {dependencies.length === 0 ? (
          <p className="muted small">No earlier step feeds this one{execution?.executionContext && Object.keys(execution.executionContext).length ? "; it reads the run's inputs" : ""}.</p>
        ) : (
          <ul className="plain-list">
            {dependencies.map((id) => {
              const dep = latestOf(id);
              const summary = typeof dep?.output?.summary === "string" ? dep.output.summary : null;
              return (
                <li key={id}>
                  <button type="button" className="linklike" onClick={() => onSelect(id)}><bdi>{stepName(id)}</bdi></button>
                  {dep && <> <StatusBadge status={dep.status} /></>}
                  {summary && <div className="muted small" dir="auto">{summary}</div>}
                </li>
              );
            })}
          </ul>
        )}
        {execution?.executionContext && Object.keys(execution.executionContext).length > 0 && (
          <details>
            <summary>Run inputs</summary>
            <pre className="json">{JSON.stringify(execution.executionContext, null, 2)}</pre>
          </details>
        )}
      </section>

      <section aria-labelledby="insp-prompt">
        <h3 id="insp-prompt">Prompt context</h3>
        <dl className="facts-list">
          {step.description && <><dt>Description</dt><dd dir="auto">{step.description}</dd></>}
          <dt>Instructions</dt><dd dir="auto">{step.instructions || <span className="muted">None given</span>}</dd>
          {step.expectedOutput && <><dt>Expected output</dt><dd dir="auto">{step.expectedOutput}</dd></>}
          {step.requiredSkills.length > 0 && <><dt>Skills</dt><dd dir="auto">{step.requiredSkills.join(", ")}</dd></>}
          {step.condition && <><dt>Runs when</dt><dd><code>{step.condition}</code></dd></>}
          {step.reviewRequired && <><dt>Review</dt><dd dir="auto">by {step.reviewerRole || "another agent"}{step.validationCriteria.length ? `: ${step.validationCriteria.join("; ")}` : ""}</dd></>}
        </dl>
      </section>

      <section aria-labelledby="insp-attempts">
        <h3 id="insp-attempts">Attempts ({runs.length})</h3>
        {runs.length === 0 ? (
          <p className="muted small">{execution ? "Not started yet." : "Start a run to see attempts."}</p>
        ) : (
          <ol className="attempts">
            {runs.map((run) => <Attempt key={run.id} run={run} agent={name(run.agentId)} />)}
          </ol>
        )}
      </section>

      {childId && (
        <section aria-labelledby="insp-child">
          <h3 id="insp-child">Nested team</h3>
          <Link to={`/executions/${childId}`} data-testid="child-execution-link">Open the sub-workflow's run</Link>
        </section>
      )}

      {writing && writing.text.trim() && (
        <section aria-labelledby="insp-writing" data-testid="inspector-writing">
          <h3 id="insp-writing">
            Writing now <span className="muted small">· <bdi>{writing.agentName}</bdi>, attempt {writing.attempt}{writing.tool ? <> → {writing.tool}</> : null}</span>
          </h3>
          <pre className="writing" dir="auto">{writing.text}</pre>
        </section>
      )}

      <section aria-labelledby="insp-output">
        <h3 id="insp-output">Output</h3>
        {output && typeof output.output === "string" ? (
          <>
            {typeof output.summary === "string" && <p className="summary" dir="auto">{output.summary}</p>}
            {typeof output.confidence === "number" && <p className="muted small">Confidence {Math.round(output.confidence * 100)}%</p>}
            {childId ? <pre className="json">{output.output}</pre> : <MarkdownText>{output.output}</MarkdownText>}
            {output.data && typeof output.data === "object" && Object.keys(output.data).length > 0 && !childId && (
              <details><summary>Data</summary><pre className="json">{JSON.stringify(output.data, null, 2)}</pre></details>
            )}
          </>
        ) : (
          <p className="muted small">{latest?.status === "running" ? "Working on it…" : "No output."}</p>
        )}
      </section>

      <section aria-labelledby="insp-tools">
        <h3 id="insp-tools">Tool calls ({toolCalls.length})</h3>
        {toolCalls.length === 0 ? <p className="muted small">No tool was called.</p> : (
          <ol className="plain-list">
            {toolCalls.map((call, i) => (
              <li key={i} className="tool-call" data-testid="tool-call">
                <span className="strong">{call.server}.{call.tool}</span>{" "}
                <span className="muted small">by <bdi>{call.agentName}</bdi> · attempt {call.attempt} · {call.durationMs} ms</span>
                <pre className="json">{JSON.stringify(call.arguments, null, 2)}</pre>
                {call.error ? <p className="error-text small">{call.error}</p> : call.resultExcerpt && <pre className="json">{call.resultExcerpt}</pre>}
              </li>
            ))}
          </ol>
        )}
      </section>

      <section aria-labelledby="insp-interactions">
        <h3 id="insp-interactions">Interactions ({interactions.length})</h3>
        {interactions.length === 0 ? <p className="muted small">None in this step.</p> : (
          <ol className="plain-list">
            {interactions.map((i) => (
              <li key={i.id} data-testid="inspector-interaction">
                <span className={`badge type-${i.interactionType}`}>{INTERACTION_LABELS[i.interactionType]}</span>{" "}
                <bdi className="strong">{name(i.fromAgentId)}</bdi>
                {(i.toAgentId || i.toUserId) && <span className="muted"> → {i.toUserId ? "you" : <bdi>{name(i.toAgentId)}</bdi>}</span>}
                <p className="timeline-message" dir="auto">{i.message}</p>
                {i.responseMessage && <p className="answer" dir="auto">{i.responseMessage}</p>}
              </li>
            ))}
          </ol>
        )}
      </section>
    </aside>
  );
}

function Attempt({ run, agent }: { run: StepRun; agent: string }) {
  return (
    <li className="attempt" data-testid={`attempt-${run.attempt}`}>
      <div className="attempt-head">
        <span className="strong">Attempt {run.attempt}</span>
        <StatusBadge status={run.status} />
        <bdi>{agent}</bdi>
      </div>
      <div className="muted small">
        {run.startedAt ? <>Started {new Date(run.startedAt).toLocaleTimeString()} · {duration(run.startedAt, run.finishedAt)}</> : "Not started"}
        {/* A kept result spent nothing in this run: its usage is the earlier run's. */}
        {!run.reusedFrom && <>{" · "}{tokens(run.inputTokens)} in / {tokens(run.outputTokens)} out · {money(run.costUsd)} · {run.modelCalls} model call{run.modelCalls === 1 ? "" : "s"}</>}
      </div>
      {run.reusedFrom && (
        <p className="muted small" data-testid="kept-result">
          Result kept from <Link to={`/executions/${run.reusedFrom}`}>an earlier run</Link> by a retry; its tokens and cost are counted there.
        </p>
      )}
      {run.error && <p className={run.status === "failed" ? "error-text small" : "muted small"} dir="auto">{run.status === "failed" ? "Error: " : "Reason: "}{run.error}</p>}
      {run.feedback && <p className="feedback small" dir="auto"><span className="strong">Review feedback:</span> {run.feedback}</p>}
    </li>
  );
}
