// The execution monitor: one workflow, its current (or chosen) execution live from the SSE
// stream, and tabs for the run, its history, interactions, knowledge and metrics.
import { useEffect, useMemo, useRef, useState } from "react";
import { Link, useNavigate, useParams } from "react-router-dom";
import { api, ApiError, query } from "../api/client";
import { useEventStream } from "../api/events";
import type { Agent, Execution, ExecutionEvent, Interaction, Knowledge, Metrics, Workflow, WorkflowStep, WorkflowType, WorkspaceFile } from "../api/types";
import { useResource } from "../api/useResource";
import { StatusLegend, StepGraph } from "../components/StepGraph";
import { Card, EmptyState, ErrorState, Loading, MarkdownText, Page, ProgressBar, StatusBadge, duration, money, relativeTime, tokens } from "../components/ui";
import { FilesTab } from "../monitor/FilesTab";
import { KnowledgeTab } from "../monitor/KnowledgeTab";
import { MetricsTab } from "../monitor/MetricsTab";
import { QuestionCard } from "../monitor/QuestionCard";
import { Timeline } from "../monitor/Timeline";
import { TriggersTab } from "../monitor/TriggersTab";
import { applyEvent, fromSnapshot, latestRuns, mergeSnapshot, percent, type LiveExecution } from "../monitor/liveState";

const TABS = [
  ["current", "Current execution"],
  ["history", "History"],
  ["interactions", "Interactions"],
  ["knowledge", "Knowledge"],
  ["files", "Files"],
  ["metrics", "Metrics"],
] as const;
type Tab = (typeof TABS)[number][0];

const FINISHED = new Set(["completed", "failed", "cancelled"]);

export function WorkflowPage() {
  const { workflowId, executionId: chosenId } = useParams();
  const navigate = useNavigate();
  const [tab, setTab] = useState<Tab>("current");
  const [actionError, setActionError] = useState<string>();
  const [notice, setNotice] = useState<string>();
  const [busy, setBusy] = useState(false);

  const workflow = useResource(`wf-${workflowId}`, () => api.get<Workflow>(`/workflows/${workflowId}`));
  const executions = useResource(`execs-${workflowId}`, () => api.get<Execution[]>(`/workflows/${workflowId}/executions`));
  const agents = useResource("agents", () => api.get<Agent[]>("/agents"));
  const agentNames = useMemo(() => Object.fromEntries((agents.data ?? []).map((a) => [a.id, a.name])), [agents.data]);

  const executionId = chosenId ?? executions.data?.[0]?.id ?? null;
  const execution = useResource(executionId, () => api.get<Execution>(`/executions/${executionId}`));
  const interactions = useResource(executionId && `int-${executionId}`, () => api.get<Interaction[]>(`/executions/${executionId}/interactions`));
  const metrics = useResource(executionId && `met-${executionId}`, () => api.get<Metrics>(`/executions/${executionId}/metrics`));
  const files = useResource(executionId && `files-${executionId}`, () => api.get<WorkspaceFile[]>(`/executions/${executionId}/files`));
  const [search, setSearch] = useState("");
  const [includeInactive, setIncludeInactive] = useState(true);
  const knowledge = useResource(`kn-${workflowId}-${search}-${includeInactive}`, () =>
    api.get<Knowledge[]>(`/workflows/${workflowId}/knowledge${query({ q: search, includeInactive })}`));

  const steps: WorkflowStep[] = useMemo(() => {
    const definition = execution.data?.definition as { configuration?: { steps?: WorkflowStep[] } } | undefined;
    return definition?.configuration?.steps ?? workflow.data?.configuration.steps ?? [];
  }, [execution.data, workflow.data]);
  const workflowType = ((execution.data?.definition as { workflowType?: WorkflowType } | undefined)?.workflowType ??
    workflow.data?.workflowType ?? "pipeline") as WorkflowType;

  // Live state: the snapshot, then every event applied in order.
  const [live, setLive] = useState<LiveExecution>();
  useEffect(() => {
    if (execution.data && execution.data.id === executionId) {
      setLive((current) => {
        const fresh = fromSnapshot(execution.data!, steps.map((s) => s.id));
        return current && current.lastEventId > 0 ? mergeSnapshot(current, fresh) : fresh;
      });
    } else {
      setLive(undefined);
    }
  }, [execution.data, executionId, steps]);

  const refresh = useRef<number | undefined>(undefined);
  // Outputs, usage and metrics are read again at most every 300 ms while events stream in.
  const refreshDetails = () => {
    if (refresh.current !== undefined) return;
    refresh.current = window.setTimeout(() => {
      refresh.current = undefined;
      execution.reload();
      metrics.reload();
    }, 300);
  };

  const onEvent = (event: ExecutionEvent) => {
    setLive((current) => (current ? applyEvent(current, event) : current));
    const payload = event.data as unknown;
    switch (event.kind) {
      case "interaction.created":
      case "interaction.answered":
        interactions.setData((list) => upsert(list, payload as Interaction));
        refreshDetails();
        break;
      case "knowledge.created":
      case "knowledge.updated":
        if (search) knowledge.reload();
        else knowledge.setData((list) => upsert(list, payload as Knowledge));
        break;
      case "workspace.file_written":
        files.reload();
        break;
      case "step.completed":
      case "step.failed":
        refreshDetails();
        files.reload(); // files written by other means (an MCP server) show up as steps end
        break;
      case "execution.status":
        refreshDetails();
        break;
    }
  };
  // The workflow's status and the run history follow each status change, however it arrived
  // (an event, or the answer to our own pause, resume or cancel).
  const liveStatus = live?.status;
  useEffect(() => {
    if (!liveStatus) return;
    workflow.reload();
    executions.reload();
  }, [liveStatus]); // eslint-disable-line react-hooks/exhaustive-deps

  const current = live && execution.data ? execution.data : undefined;
  const streaming = current && !FINISHED.has(live!.status);
  const stream = useEventStream(executionId && streaming ? `/executions/${executionId}/events` : null, onEvent);
  // After a dropped connection the stream resumes where it was; the snapshot is read again too,
  // so nothing that happened meanwhile is missing from outputs and usage.
  const wasReconnecting = useRef(false);
  useEffect(() => {
    if (stream === "reconnecting") wasReconnecting.current = true;
    if (stream === "live" && wasReconnecting.current) {
      wasReconnecting.current = false;
      execution.reload();
    }
  }, [stream]); // eslint-disable-line react-hooks/exhaustive-deps

  const act = async (action: "pause" | "resume" | "cancel" | "rerun" | "start") => {
    setBusy(true);
    setActionError(undefined);
    try {
      const result =
        action === "start"
          ? await api.post<Execution>(`/workflows/${workflowId}/executions`, { triggerReason: "manual" })
          : await api.post<Execution>(`/executions/${executionId}/${action}`);
      if (action === "start" || action === "rerun") {
        executions.reload();
        navigate(`/workflows/${workflowId}/executions/${result.id}`);
        setTab("current");
      } else {
        execution.reload();
      }
    } catch (e) {
      setActionError(e instanceof ApiError ? e.message : String(e));
    } finally {
      setBusy(false);
    }
  };

  const saveAsTemplate = async () => {
    setActionError(undefined);
    try {
      const template = await api.post<{ name: string }>(`/workflows/${workflowId}/template`);
      setNotice(`Saved as the template “${template.name}”.`);
    } catch (e) {
      setActionError(e instanceof ApiError ? e.message : String(e));
    }
  };

  if (workflow.error) return <Page title="Workflow"><ErrorState error={workflow.error} onRetry={workflow.reload} /></Page>;
  if (!workflow.data) return <Page title="Workflow"><Loading what="the workflow" /></Page>;
  const w = workflow.data;
  const status = live?.status;
  const running = status === "running" || status === "pending";

  const actions = (
    <>
      <Link className="button secondary" to={`/workflows/${w.id}/edit`}>Edit</Link>
      <button className="button secondary" onClick={saveAsTemplate}>Save as template</button>
      {running && <button className="button secondary" disabled={busy} onClick={() => act("pause")}>Pause</button>}
      {status === "paused" && <button className="button" disabled={busy} onClick={() => act("resume")}>Resume</button>}
      {(running || status === "paused") && <button className="button danger" disabled={busy} onClick={() => act("cancel")}>Cancel</button>}
      {status && FINISHED.has(status) && <button className="button" disabled={busy} onClick={() => act("rerun")}>Run again</button>}
      {!executionId && executions.data && <button className="button" disabled={busy} onClick={() => act("start")}>Start</button>}
    </>
  );

  return (
    <Page
      title={w.name}
      subtitle={<>
        <StatusBadge status={w.status} /> <span>{w.workflowType}</span> · <span>{w.participatingAgents.length} agents</span> ·{" "}
        <span>{w.configuration.steps.length} steps</span>
        {w.description && <span className="block">{w.description}</span>}
      </>}
      actions={actions}
    >
      {actionError && <div className="error-state" role="alert">{actionError}</div>}
      {notice && <div className="notice" role="status">{notice} <Link to="/templates">See templates</Link></div>}
      <Card
        title={current ? <>Execution #{current.executionNumber} <StatusBadge status={live!.status} /></> : "No runs yet"}
        actions={current && <span className={`stream stream-${stream}`} title="Live updates">{streamLabel(stream, live!.status)}</span>}
      >
        {!executionId ? (
          executions.error ? <ErrorState error={executions.error} onRetry={executions.reload} /> :
          <EmptyState title="This workflow has not run yet" action={<button className="button" disabled={busy} onClick={() => act("start")}>Start</button>}>
            Start it to watch the team work through the steps live.
          </EmptyState>
        ) : execution.error ? (
          <ErrorState error={execution.error} onRetry={execution.reload} />
        ) : !live ? (
          <Loading what="the execution" />
        ) : (
          <>
            <div className="progress-row">
              <ProgressBar value={percent(live.progress)} label="Execution progress" />
              <span className="small" data-testid="progress-text">
                {live.progress.completed}/{live.progress.total} completed
                {live.progress.skipped ? `, ${live.progress.skipped} skipped` : ""}
                {live.progress.failed ? `, ${live.progress.failed} failed` : ""}
              </span>
            </div>
            <StepGraph steps={steps} workflowType={workflowType} views={live.steps} agentNames={agentNames} height={300} />
            <StatusLegend />
          </>
        )}
      </Card>

      {executionId && (
        <>
          <div className="tabs" role="tablist">
            {TABS.map(([id, label]) => (
              <button key={id} role="tab" aria-selected={tab === id} className={tab === id ? "active" : ""} onClick={() => setTab(id)}>
                {label}
                {id === "interactions" && interactions.data ? ` (${interactions.data.length})` : ""}
                {id === "knowledge" && knowledge.data ? ` (${knowledge.data.length})` : ""}
                {id === "files" && files.data ? ` (${files.data.length})` : ""}
              </button>
            ))}
          </div>
          <div className="tab-panel" role="tabpanel">
            {tab === "current" && current && live && (
              <CurrentTab execution={current} live={live} steps={steps} agentNames={agentNames}
                questions={(interactions.data ?? []).filter((i) => i.toUserId && i.responseStatus === "pending")}
                onAnswered={(answered) => interactions.setData((list) => upsert(list, answered))} />
            )}
            {tab === "history" && (
              <HistoryTab workflowId={w.id} executions={executions.data ?? []} currentId={executionId} />
            )}
            {tab === "interactions" && (
              interactions.error ? <ErrorState error={interactions.error} onRetry={interactions.reload} /> :
              !interactions.data ? <Loading what="interactions" /> :
              <Timeline interactions={interactions.data} agentNames={agentNames} />
            )}
            {tab === "knowledge" && (
              <KnowledgeTab entries={knowledge.data} error={knowledge.error} agentNames={agentNames}
                search={search} onSearch={setSearch} includeInactive={includeInactive} onIncludeInactive={setIncludeInactive} />
            )}
            {tab === "files" && (
              <FilesTab executionId={executionId} files={files.data} error={files.error} onRetry={files.reload} />
            )}
            {tab === "metrics" && (
              metrics.error ? <ErrorState error={metrics.error} onRetry={metrics.reload} /> :
              <MetricsTab metrics={metrics.data} usage={current?.usage} agentNames={agentNames} />
            )}
          </div>
        </>
      )}
      {workflowId && (
        <details className="triggers">
          <summary>Triggers: schedules, webhooks, runs after, notifications</summary>
          <TriggersTab workflowId={workflowId} />
        </details>
      )}
    </Page>
  );
}

function upsert<T extends { id: string }>(list: T[] | undefined, item: T): T[] {
  if (!item?.id) return list ?? [];
  const all = list ?? [];
  return all.some((x) => x.id === item.id) ? all.map((x) => (x.id === item.id ? item : x)) : [...all, item];
}

function streamLabel(stream: string, status: string): string {
  if (FINISHED.has(status)) return "Finished";
  return stream === "live" ? "● Live" : stream === "reconnecting" ? "Reconnecting…" : "Connecting…";
}

function CurrentTab({ execution, live, steps, agentNames, questions, onAnswered }: {
  execution: Execution;
  live: LiveExecution;
  steps: WorkflowStep[];
  agentNames: Record<string, string>;
  questions: Interaction[];
  onAnswered: (i: Interaction) => void;
}) {
  const runs = latestRuns(execution.stepRuns ?? []);
  const active = [...new Set(Object.values(live.steps).filter((s) => s.status === "running" && s.agentId).map((s) => s.agentId!))];
  const name = (id: string | null) => (id ? (agentNames[id] ?? id.slice(0, 8)) : "—");
  const usage = execution.usage;
  return (
    <div className="stack">
      <div className="facts">
        <span>Started {relativeTime(execution.startedAt)}</span>
        <span>Trigger: {execution.triggerReason}</span>
        <span>Duration: {duration(execution.startedAt, execution.completedAt)}</span>
        {usage && <span>{tokens(usage.inputTokens + usage.outputTokens)} tokens · {money(usage.costUsd)}</span>}
      </div>
      {live.errorMessage && <div className="error-state" role="alert">{live.errorMessage}</div>}
      {questions.length > 0 && (
        <Card title="Questions for you">
          {questions.map((q) => <QuestionCard key={q.id} question={q} agentName={name(q.fromAgentId)} onAnswered={onAnswered} />)}
        </Card>
      )}
      <div>
        <h3>Active agents</h3>
        {active.length ? (
          <div className="chips">{active.map((id) => <span key={id} className="chip on">{name(id)}</span>)}</div>
        ) : (
          <p className="muted">{FINISHED.has(live.status) ? "The execution has ended." : "No agent is working right now."}</p>
        )}
      </div>
      <div>
        <h3>Step results</h3>
        <div className="stack">
          {steps.map((step) => {
            const view = live.steps[step.id];
            const run = runs[step.id];
            const output = typeof run?.output?.output === "string" ? run.output.output : null;
            return (
              <details key={step.id} className="result" open={view?.status === "completed" && !!output} data-testid={`result-${step.id}`}>
                <summary>
                  <StatusBadge status={view?.status ?? "waiting"} />
                  <span className="strong">{step.name}</span>
                  <span className="muted small">{name(view?.agentId ?? null)}{view && view.attempt > 1 ? ` · attempt ${view.attempt}` : ""}</span>
                </summary>
                {view?.summary && <p className="summary">{view.summary}</p>}
                {view?.error && <p className="error-text">{view.error}</p>}
                {view?.reason && view.status === "skipped" && <p className="muted">{view.reason}</p>}
                {output ? <MarkdownText>{output}</MarkdownText> : view?.status === "completed" ? null : <p className="muted small">No result yet.</p>}
              </details>
            );
          })}
        </div>
      </div>
      {typeof execution.finalOutput === "string" && execution.finalOutput && (
        <Card title="Final output"><MarkdownText>{execution.finalOutput}</MarkdownText></Card>
      )}
    </div>
  );
}

function HistoryTab({ workflowId, executions, currentId }: { workflowId: string; executions: Execution[]; currentId: string }) {
  if (executions.length === 0) return <EmptyState title="No runs yet" />;
  return (
    <div className="table-wrap">
      <table className="table" aria-label="Execution history">
        <thead>
          <tr><th>Run</th><th>Status</th><th>Trigger</th><th>Started</th><th>Duration</th><th>Tokens</th><th>Cost</th></tr>
        </thead>
        <tbody>
          {executions.map((e) => (
            <tr key={e.id} className={e.id === currentId ? "selected" : ""}>
              <td><Link to={`/workflows/${workflowId}/executions/${e.id}`}>#{e.executionNumber}</Link></td>
              <td><StatusBadge status={e.status} />{e.errorMessage && <div className="small error-text">{e.errorMessage}</div>}</td>
              <td>{e.triggerReason}</td>
              <td>{relativeTime(e.startedAt)}</td>
              <td>{duration(e.startedAt, e.completedAt)}</td>
              <td>{tokens((e.usage?.inputTokens ?? 0) + (e.usage?.outputTokens ?? 0))}</td>
              <td>{money(e.usage?.costUsd ?? 0)}</td>
            </tr>
          ))}
        </tbody>
      </table>
    </div>
  );
}
