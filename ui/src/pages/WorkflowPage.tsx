// The execution monitor: one workflow, its current (or chosen) execution live from the SSE
// stream. A finished run opens on its deliverable; clicking a step (in the graph, the step list
// or the timeline) opens the step inspector beside it (`?step=<id>` in the address).
import { useEffect, useMemo, useRef, useState } from "react";
import { Link, useNavigate, useParams, useSearchParams } from "react-router-dom";
import { api, ApiError, query } from "../api/client";
import { useEventStream } from "../api/events";
import type { Agent, Execution, ExecutionEvent, Interaction, Knowledge, Metrics, TextDelta, ToolApproval, ToolCall, Workflow, WorkflowStep, WorkflowType, WorkspaceFile } from "../api/types";
import { useResource } from "../api/useResource";
import { StatusLegend, StepGraph, statusTitle, STATUS_COLOURS } from "../components/StepGraph";
import { effectiveDependencies } from "../components/graphLayout";
import { Card, EmptyState, ErrorState, Loading, Page, ProgressBar, StatusBadge, duration, money, relativeTime, tokens } from "../components/ui";
import { DeliverablePanel } from "../monitor/Deliverable";
import { FilesTab } from "../monitor/FilesTab";
import { Gantt } from "../monitor/Gantt";
import { KnowledgeTab } from "../monitor/KnowledgeTab";
import { MetricsTab } from "../monitor/MetricsTab";
import { ExecutionApprovals } from "../monitor/ExecutionApprovals";
import { QuestionCard } from "../monitor/QuestionCard";
import { RunDialog } from "../monitor/RunDialog";
import { NowWriting } from "../monitor/NowWriting";
import { StepInspector } from "../monitor/StepInspector";
import { applyDelta, applyStepEvent, type LiveWriting } from "../monitor/liveText";
import { Timeline } from "../monitor/Timeline";
import { ToolCallsTable } from "../monitor/ToolCalls";
import { TriggersTab } from "../monitor/TriggersTab";
import { applyEvent, fromSnapshot, latestRuns, mergeSnapshot, percent, type LiveExecution } from "../monitor/liveState";

const TABS = [
  ["deliverable", "Deliverable"],
  ["steps", "Steps"],
  ["timeline", "Timeline"],
  ["interactions", "Interactions"],
  ["knowledge", "Knowledge"],
  ["files", "Files"],
  ["metrics", "Metrics"],
  ["history", "History"],
] as const;
type Tab = (typeof TABS)[number][0];

const FINISHED = new Set(["completed", "failed", "cancelled"]);

export function WorkflowPage() {
  const { workflowId, executionId: chosenId } = useParams();
  const navigate = useNavigate();
  const [params, setParams] = useSearchParams();
  const selectedStep = params.get("step");
  const [chosenTab, setTab] = useState<Tab>();
  const [actionError, setActionError] = useState<string>();
  const [notice, setNotice] = useState<string>();
  const [busy, setBusy] = useState(false);
  const [runDialog, setRunDialog] = useState<{ title: string; initial: Record<string, unknown> }>();

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
  const approvals = useResource(executionId && `approvals-${executionId}`, () =>
    api.get<ToolApproval[]>(`/approvals${query({ status: "pending", executionId: executionId! })}`));
  const [toolCalls, setToolCalls] = useState<ToolCall[]>([]);
  useEffect(() => setToolCalls([]), [executionId]);

  const steps: WorkflowStep[] = useMemo(() => {
    const definition = execution.data?.definition as { configuration?: { steps?: WorkflowStep[] } } | undefined;
    return definition?.configuration?.steps ?? workflow.data?.configuration.steps ?? [];
  }, [execution.data, workflow.data]);
  const workflowType = ((execution.data?.definition as { workflowType?: WorkflowType } | undefined)?.workflowType ??
    workflow.data?.workflowType ?? "pipeline") as WorkflowType;
  const stepNames = useMemo(() => new Map(steps.map((s) => [s.id, s.name || s.id])), [steps]);
  const stepName = (id: string) => stepNames.get(id) ?? id;

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

  // What the agents are writing now (never stored: only what this page has seen since it opened).
  const [writing, setWriting] = useState<LiveWriting>({});
  useEffect(() => setWriting({}), [executionId]);
  const onText = (delta: TextDelta) => {
    if (delta.executionId === executionId) setWriting((current) => applyDelta(current, delta));
  };

  const seenTools = useRef(new Set<number>());
  const onEvent = (event: ExecutionEvent) => {
    setLive((current) => (current ? applyEvent(current, event) : current));
    setWriting((current) => applyStepEvent(current, event));
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
      case "approval.requested":
      case "approval.decided":
        approvals.reload();
        break;
      case "tool.called":
        if (!seenTools.current.has(event.id)) {
          seenTools.current.add(event.id);
          setToolCalls((calls) => [...calls, { ...(payload as ToolCall), stepId: (payload as ToolCall).stepId ?? event.stepId, at: event.createdAt }]);
        }
        break;
      case "step.completed":
      case "step.failed":
        files.reload(); // files written by other means (an MCP server) show up as steps end
        refreshDetails();
        break;
      case "step.cancelled":
      case "step.skipped":
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
  // A finished run's stream is opened only for the inspector and the timeline: it replays the
  // tool calls.
  const stream = useEventStream(executionId && current && (streaming || selectedStep || chosenTab === "timeline") ? `/executions/${executionId}/events` : null, onEvent, onText);
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

  const start = async (inputs: Record<string, unknown>) => {
    setBusy(true);
    setActionError(undefined);
    try {
      const result = await api.post<Execution>(`/workflows/${workflowId}/executions`, { triggerReason: "manual", inputs });
      setRunDialog(undefined);
      executions.reload();
      navigate(`/workflows/${workflowId}/executions/${result.id}`);
      setTab(undefined);
    } catch (e) {
      setActionError(e instanceof ApiError ? e.message : String(e));
    } finally {
      setBusy(false);
    }
  };

  // A retry is a new execution that keeps the completed results: the page moves to it.
  const retry = async () => {
    setBusy(true);
    setActionError(undefined);
    try {
      const result = await api.post<Execution>(`/executions/${executionId}/retry`);
      executions.reload();
      navigate(`/workflows/${workflowId}/executions/${result.id}`);
      setTab(undefined);
    } catch (e) {
      setActionError(e instanceof ApiError ? e.message : String(e));
    } finally {
      setBusy(false);
    }
  };

  const act = async (action: "pause" | "resume" | "cancel") => {
    setBusy(true);
    setActionError(undefined);
    try {
      await api.post<Execution>(`/executions/${executionId}/${action}`);
      execution.reload();
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

  const select = (stepId: string | null) => {
    const next = new URLSearchParams(params);
    if (stepId) next.set("step", stepId);
    else next.delete("step");
    setParams(next, { replace: !!selectedStep && !!stepId });
  };

  const deps = useMemo(() => effectiveDependencies(steps, workflowType), [steps, workflowType]);

  if (workflow.error) return <Page title="Workflow"><ErrorState error={workflow.error} onRetry={workflow.reload} /></Page>;
  if (!workflow.data) return <Page title="Workflow"><Loading what="the workflow" /></Page>;
  const w = workflow.data;
  const status = live?.status;
  const running = status === "running" || status === "pending";
  const finished = !!status && FINISHED.has(status);
  const tab: Tab = chosenTab ?? (finished ? "deliverable" : "steps");
  const inspected = selectedStep ? steps.find((s) => s.id === selectedStep) : undefined;
  const retryable = (status === "failed" || status === "cancelled") && !current?.parentExecutionId;
  const kept = (current?.stepRuns ?? []).filter((r) => r.reusedFrom).length;
  const retriedFrom = current?.retryOf ? executions.data?.find((e) => e.id === current.retryOf) : undefined;
  const finishing = status === "paused" && live ? Object.entries(live.steps).filter(([, v]) => v.status === "running").map(([id]) => id) : [];

  const actions = (
    <>
      <Link className="button secondary" to={`/workflows/${w.id}/edit`}>Edit</Link>
      <button className="button secondary" onClick={saveAsTemplate}>Save as template</button>
      {running && <button className="button secondary" disabled={busy} onClick={() => act("pause")}>Pause</button>}
      {status === "paused" && <button className="button" disabled={busy} onClick={() => act("resume")}>Resume</button>}
      {(running || status === "paused") && <button className="button danger" disabled={busy} onClick={() => act("cancel")}>Cancel</button>}
      {retryable && <button className="button" disabled={busy} onClick={retry}
        title="A new run that keeps the results of the steps that completed and runs the rest">Retry from failed step</button>}
      {finished && <button className={retryable ? "button secondary" : "button"} disabled={busy}
        onClick={() => setRunDialog({ title: "Run again", initial: current?.executionContext ?? {} })}>Run again</button>}
      {!executionId && executions.data && <button className="button" disabled={busy}
        onClick={() => setRunDialog({ title: `Start “${w.name}”`, initial: {} })}>Start</button>}
    </>
  );

  return (
    <Page
      title={<bdi>{w.name}</bdi>}
      documentTitle={current ? `${w.name} · run #${current.executionNumber} ${status}` : w.name}
      subtitle={<>
        <StatusBadge status={w.status} /> <span>{w.workflowType}</span> · <span>{plural(w.participatingAgents.length, "agent")}</span> ·{" "}
        <span>{plural(w.configuration.steps.length, "step")}</span>
        {w.description && <span className="block" dir="auto">{w.description}</span>}
      </>}
      actions={actions}
    >
      {runDialog && (
        <RunDialog title={runDialog.title} initial={runDialog.initial} busy={busy} error={actionError}
          onRun={start} onClose={() => { setRunDialog(undefined); setActionError(undefined); }} />
      )}
      {actionError && !runDialog && <div className="error-state" role="alert">{actionError}</div>}
      {notice && <div className="notice" role="status">{notice} <Link to="/templates">See templates</Link></div>}
      {current?.parentExecutionId && (
        <div className="notice info" data-testid="parent-link">
          This run is a nested team of a step in another run. <Link to={`/executions/${current.parentExecutionId}`}>Open the parent run</Link>
        </div>
      )}
      {current?.retryOf && (
        <div className="notice info" role="status" data-testid="retry-banner">
          This run retries <Link to={`/workflows/${w.id}/executions/${current.retryOf}`}>run #{retriedFrom?.executionNumber ?? "?"}</Link>
          {kept
            ? `, keeping the results of ${kept} completed step${kept === 1 ? "" : "s"}; the other steps run again.`
            : "; no completed result could be kept, so every step runs again."}
        </div>
      )}
      {status === "paused" && (
        <div className="notice warn" role="status" data-testid="paused-banner">
          Paused: nothing new starts until you resume.{" "}
          {finishing.length ? <>Still finishing: {finishing.map((id, i) => <span key={id}>{i ? ", " : ""}<bdi>{stepName(id)}</bdi></span>)}.</> : "No step is running."}
        </div>
      )}
      <div className={`monitor${inspected ? " with-inspector" : ""}`}>
        <div className="monitor-main">
          <Card
            title={current ? <>Execution #{current.executionNumber} <StatusBadge status={live!.status} /></> : "No runs yet"}
            actions={current && <span className={`stream stream-${stream}`} title="Live updates">{streamLabel(stream, live!.status)}</span>}
          >
            {!executionId ? (
              executions.error ? <ErrorState error={executions.error} onRetry={executions.reload} /> : (
                <>
                  <EmptyState title="This workflow has not run yet" action={<button className="button" disabled={busy}
                    onClick={() => setRunDialog({ title: `Start “${w.name}”`, initial: {} })}>Start</button>}>
                    Start it to watch the team work through the steps live.
                  </EmptyState>
                  <StepGraph steps={steps} workflowType={workflowType} agentNames={agentNames} height={graphHeight(steps.length)}
                    selectedId={selectedStep} onSelect={select} />
                </>
              )
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
                {live.errorMessage && <div className="error-state" role="alert" dir="auto">{live.errorMessage}</div>}
                <StepGraph steps={steps} workflowType={workflowType} views={live.steps} agentNames={agentNames}
                  height={graphHeight(steps.length)} selectedId={selectedStep} onSelect={select} paused={status === "paused"} />
                <StatusLegend />
              </>
            )}
          </Card>
          {streaming && <NowWriting writing={writing} stepName={stepName} onSelect={select} />}

          {executionId && (
            <>
              <div className="tabs" role="tablist" aria-label="Run details">
                {TABS.filter(([id]) => id !== "deliverable" || finished).map(([id, label]) => (
                  <button key={id} role="tab" id={`tab-${id}`} aria-controls="run-tabpanel" aria-selected={tab === id}
                    className={tab === id ? "active" : ""} onClick={() => setTab(id)}>
                    {label}
                    {id === "interactions" && interactions.data ? ` (${interactions.data.length})` : ""}
                    {id === "knowledge" && knowledge.data ? ` (${knowledge.data.length})` : ""}
                    {id === "files" && files.data ? ` (${files.data.length})` : ""}
                  </button>
                ))}
              </div>
              <div className="tab-panel" role="tabpanel" id="run-tabpanel" aria-labelledby={`tab-${tab}`}>
                {tab === "deliverable" && current && <DeliverablePanel execution={current} stepName={stepName} />}
                {tab === "steps" && current && live && (
                  <StepsTab execution={current} live={live} steps={steps} agentNames={agentNames} onSelect={select}
                    approvals={approvals.data ?? []} stepName={stepName}
                    onDecided={(decided) => approvals.setData((list) => list?.filter((a) => a.id !== decided.id))}
                    questions={(interactions.data ?? []).filter((i) => i.toUserId && i.responseStatus === "pending")}
                    onAnswered={(answered) => interactions.setData((list) => upsert(list, answered))} />
                )}
                {tab === "timeline" && current && (
                  <div className="stack">
                    <Gantt runs={(current.stepRuns ?? []).filter((r) => !r.reusedFrom)} agentNames={agentNames} stepName={stepName} onSelect={select} toolCalls={toolCalls} />
                    <ToolCallsTable calls={toolCalls} since={current.startedAt} stepName={stepName} onSelect={select} />
                  </div>
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
                  <FilesTab executionId={executionId} files={files.data} error={files.error} onRetry={files.reload}
                    stepName={stepName} onSelectStep={select} />
                )}
                {tab === "metrics" && (
                  metrics.error ? <ErrorState error={metrics.error} onRetry={metrics.reload} /> :
                  <MetricsTab metrics={metrics.data} usage={current?.usage} agentNames={agentNames} />
                )}
              </div>
            </>
          )}
        </div>
        {inspected && (
          <StepInspector
            step={inspected}
            steps={steps}
            execution={current}
            view={live?.steps[inspected.id]}
            dependencies={deps[inspected.id] ?? []}
            agentNames={agentNames}
            interactions={(interactions.data ?? []).filter((i) => i.relatedStepId === inspected.id)}
            toolCalls={toolCalls.filter((c) => c.stepId === inspected.id)}
            writing={streaming ? writing[inspected.id] : undefined}
            approvals={(approvals.data ?? []).filter((a) => a.stepId === inspected.id)}
            onDecided={(decided) => approvals.setData((list) => list?.filter((a) => a.id !== decided.id))}
            paused={status === "paused"}
            onSelect={select}
            onClose={() => select(null)}
          />
        )}
      </div>
      {workflowId && (
        <details className="triggers">
          <summary>Triggers: schedules, webhooks, runs after, notifications</summary>
          <TriggersTab workflowId={workflowId} />
        </details>
      )}
    </Page>
  );
}

/** Taller for bigger workflows, so a wrapped pipeline shows a few bands at a readable zoom. */
function graphHeight(stepCount: number): number {
  return stepCount > 40 ? 520 : stepCount > 8 ? 400 : 300;
}

function plural(count: number, noun: string): string {
  return `${count} ${noun}${count === 1 ? "" : "s"}`;
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

function StepsTab({ execution, live, steps, agentNames, questions, onAnswered, onSelect, approvals, stepName, onDecided }: {
  approvals: ToolApproval[];
  stepName: (id: string) => string;
  onDecided: (decided: ToolApproval) => void;
  execution: Execution;
  live: LiveExecution;
  steps: WorkflowStep[];
  agentNames: Record<string, string>;
  questions: Interaction[];
  onAnswered: (i: Interaction) => void;
  onSelect: (stepId: string) => void;
}) {
  const runs = latestRuns(execution.stepRuns ?? []);
  const attempts = new Map<string, number>();
  for (const r of execution.stepRuns ?? []) attempts.set(r.stepId, Math.max(attempts.get(r.stepId) ?? 0, r.attempt));
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
      {questions.length > 0 && (
        <Card title="Questions for you">
          {questions.map((q) => <QuestionCard key={q.id} question={q} agentName={name(q.fromAgentId)} onAnswered={onAnswered} />)}
        </Card>
      )}
      <ExecutionApprovals approvals={approvals} stepName={stepName} onDecided={onDecided} />
      <div>
        <h3>Active agents</h3>
        {active.length ? (
          <div className="chips">{active.map((id) => <span key={id} className="chip on"><bdi>{name(id)}</bdi></span>)}</div>
        ) : (
          <p className="muted">{FINISHED.has(live.status) ? "The execution has ended." : "No agent is working right now."}</p>
        )}
      </div>
      <div className="table-wrap">
        <table className="table steps-table" aria-label="Steps of this run">
          <thead>
            <tr><th>Step</th><th>Status</th><th>Agent</th><th>Attempts</th><th>Duration</th><th>Tokens</th><th>Summary</th></tr>
          </thead>
          <tbody>
            {steps.map((step) => {
              const view = live.steps[step.id];
              const run = runs[step.id];
              const status = view?.status ?? "waiting";
              return (
                <tr key={step.id} data-testid={`result-${step.id}`}>
                  <td><button type="button" className="linklike strong" onClick={() => onSelect(step.id)} dir="auto"><bdi>{step.name || step.id}</bdi></button></td>
                  <td><span className={`badge badge-${status}`} title={statusTitle(view, live.status === "paused")}>{STATUS_COLOURS[status].label}</span></td>
                  <td><bdi>{name(view?.agentId ?? run?.agentId ?? null)}</bdi></td>
                  <td>{run?.reusedFrom ? <span className="muted" title="The result of an earlier run, kept by the retry">kept</span> : attempts.get(step.id) ?? 0}</td>
                  <td className="small">{run?.startedAt ? duration(run.startedAt, run.finishedAt) : ""}</td>
                  <td className="small">{run ? tokens(run.inputTokens + run.outputTokens) : ""}</td>
                  <td className="small clamp" dir="auto">{view?.status === "failed" ? view.error : view?.reason ?? view?.summary ?? ""}</td>
                </tr>
              );
            })}
          </tbody>
        </table>
      </div>
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
