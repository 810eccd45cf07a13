// The user's workflows: find (search, filter by status, sort), open, duplicate, export as a
// workflow file, delete; and import a workflow file (the YAML `accord run` takes).
import { useMemo, useRef, useState } from "react";
import { Link, useNavigate } from "react-router-dom";
import { API_BASE, ApiError, api } from "../api/client";
import { useEventStream } from "../api/events";
import type { Agent, Problem, Workflow, WorkflowStatus } from "../api/types";
import { useResource } from "../api/useResource";
import { EmptyState, ErrorState, Loading, Page, ProgressBar, StatusBadge, relativeTime } from "../components/ui";

type Sort = "recent" | "name" | "lastRun" | "steps";
const STATUSES: WorkflowStatus[] = ["draft", "active", "paused", "completed", "failed"];

export function filterWorkflows(list: Workflow[], text: string, status: string, sort: Sort): Workflow[] {
  const words = text.trim().toLowerCase();
  const shown = list.filter((w) =>
    (!status || w.status === status) &&
    (!words || w.name.toLowerCase().includes(words) || w.description.toLowerCase().includes(words)));
  const time = (iso: string | null) => (iso ? new Date(iso).getTime() : 0);
  const order: Record<Sort, (a: Workflow, b: Workflow) => number> = {
    recent: (a, b) => time(b.updatedAt) - time(a.updatedAt),
    name: (a, b) => a.name.localeCompare(b.name),
    lastRun: (a, b) => time(b.startedAt) - time(a.startedAt),
    steps: (a, b) => b.configuration.steps.length - a.configuration.steps.length,
  };
  return [...shown].sort(order[sort]);
}

export function WorkflowsPage() {
  const navigate = useNavigate();
  const workflows = useResource("workflows", () => api.get<Workflow[]>("/workflows"));
  const agents = useResource("agents", () => api.get<Agent[]>("/agents"));
  const pendingReload = useRef<number | undefined>(undefined);
  const [text, setText] = useState("");
  const [status, setStatus] = useState("");
  const [sort, setSort] = useState<Sort>("recent");
  const [message, setMessage] = useState<{ kind: "ok" | "error"; text: string; problems?: Problem[] }>();
  const [importing, setImporting] = useState(false);
  const shown = useMemo(() => filterWorkflows(workflows.data ?? [], text, status, sort), [workflows.data, text, status, sort]);

  // Status and progress change live: reload the list (at most every 500 ms) when they do.
  useEventStream("/events", (event) => {
    const relevant = event.kind.startsWith("execution.") || event.kind.startsWith("step.");
    if (!relevant || pendingReload.current !== undefined) return;
    pendingReload.current = window.setTimeout(() => {
      pendingReload.current = undefined;
      workflows.reload();
    }, 500);
  });

  const fail = (e: unknown) =>
    setMessage({ kind: "error", text: e instanceof Error ? e.message : String(e), problems: e instanceof ApiError ? e.problems : undefined });

  const remove = async (w: Workflow) => {
    if (!window.confirm(`Delete “${w.name}” with its runs, interactions and knowledge? This cannot be undone.`)) return;
    try {
      await api.delete(`/workflows/${w.id}`);
      setMessage({ kind: "ok", text: `Deleted “${w.name}”.` });
      workflows.reload();
    } catch (e) {
      fail(e);
    }
  };

  const duplicate = async (w: Workflow) => {
    try {
      const copy = await api.post<Workflow>("/workflows", {
        name: copyName(w.name, (workflows.data ?? []).map((x) => x.name)),
        description: w.description,
        workflowType: w.workflowType,
        participatingAgents: w.participatingAgents,
        coordinatorAgentId: w.coordinatorAgentId,
        configuration: w.configuration,
      });
      navigate(`/workflows/${copy.id}/edit`);
    } catch (e) {
      fail(e);
    }
  };

  // Fetched rather than linked, so a refusal (a nested team) shows its reason here.
  const exportFile = async (w: Workflow) => {
    setMessage(undefined);
    const response = await fetch(`${API_BASE}/workflows/${w.id}/export`, { credentials: "same-origin" });
    if (!response.ok) {
      const body = (await response.json().catch(() => ({}))) as { error?: { message?: string; details?: { problems?: Problem[] } } };
      setMessage({ kind: "error", text: body.error?.message ?? `Export failed (${response.status}).`, problems: body.error?.details?.problems });
      return;
    }
    const link = document.createElement("a");
    link.href = URL.createObjectURL(await response.blob());
    link.download = /filename="([^"]+)"/.exec(response.headers.get("Content-Disposition") ?? "")?.[1] ?? "workflow.yaml";
    link.click();
    URL.revokeObjectURL(link.href);
  };

  const importFile = async (file: File) => {
    setImporting(true);
    setMessage(undefined);
    try {
      const created = await api.post<Workflow>("/workflows/import", { yaml: await file.text() });
      navigate(`/workflows/${created.id}`);
    } catch (e) {
      fail(e);
    } finally {
      setImporting(false);
    }
  };

  const actions = (
    <>
      <label className="button secondary">
        {importing ? "Importing…" : "Import YAML"}
        <input type="file" accept=".yaml,.yml,application/yaml,text/yaml" className="visually-hidden"
          aria-label="Import a workflow file (YAML)" disabled={importing}
          onChange={(e) => { const f = e.target.files?.[0]; e.target.value = ""; if (f) void importFile(f); }} />
      </label>
      <Link className="button secondary" to="/templates">From a template</Link>
      <Link className="button" to="/workflows/new">New workflow</Link>
    </>
  );

  return (
    <Page title="Workflows" subtitle="Teams of agents working through steps together." actions={actions}>
      {message && (
        <div className={message.kind === "ok" ? "notice" : "error-state"} role={message.kind === "ok" ? "status" : "alert"}>
          {message.text}
          {message.problems && message.problems.length > 0 && (
            <ul className="problems">
              {message.problems.map((p, i) => (
                <li key={i}>{(p as Problem & { line?: number }).line ? `Line ${(p as Problem & { line?: number }).line}: ` : ""}{p.field && <code>{p.field}</code>} {p.message}{p.fix && <span className="fix">: {p.fix}</span>}</li>
              ))}
            </ul>
          )}
        </div>
      )}
      {workflows.error ? (
        <ErrorState error={workflows.error} onRetry={workflows.reload} />
      ) : !workflows.data ? (
        <Loading what="workflows" />
      ) : workflows.data.length === 0 ? (
        agents.data && agents.data.length === 0 ? (
          <EmptyState title="No agents yet" action={<Link className="button" to="/agents?new=1">Create an agent</Link>}>
            A workflow is carried out by a team of agents. Create one or two agents first, or import a workflow file (it brings its agents).
          </EmptyState>
        ) : (
          <EmptyState title="No workflows yet" action={<div className="actions">{actions}</div>}>
            Build a workflow step by step, start from a template, or import a workflow file.
          </EmptyState>
        )
      ) : (
        <>
          <div className="filters" role="search">
            <label>
              Search
              <input type="search" value={text} placeholder="Name or description" onChange={(e) => setText(e.target.value)} />
            </label>
            <label>
              Status
              <select value={status} onChange={(e) => setStatus(e.target.value)}>
                <option value="">Any status</option>
                {STATUSES.map((s) => <option key={s} value={s}>{s[0].toUpperCase() + s.slice(1)}</option>)}
              </select>
            </label>
            <label>
              Sort by
              <select value={sort} onChange={(e) => setSort(e.target.value as Sort)}>
                <option value="recent">Recently changed</option>
                <option value="lastRun">Last run</option>
                <option value="name">Name</option>
                <option value="steps">Most steps</option>
              </select>
            </label>
            <span className="muted small" role="status">{shown.length} of {workflows.data.length}</span>
          </div>
          {shown.length === 0 ? (
            <EmptyState title="No workflow matches">Clear the search or choose “Any status”.</EmptyState>
          ) : (
            <div className="table-wrap">
              <table className="table" aria-label="Workflows">
                <thead>
                  <tr>
                    <th>Name</th>
                    <th>Type</th>
                    <th>Status</th>
                    <th>Progress</th>
                    <th>Agents</th>
                    <th>Last run</th>
                    <th><span className="visually-hidden">Actions</span></th>
                  </tr>
                </thead>
                <tbody>
                  {shown.map((w) => {
                    const total = w.totalSteps || w.configuration.steps.length;
                    const value = total ? Math.round((w.currentStep / total) * 100) : 0;
                    return (
                      <tr key={w.id}>
                        <td>
                          <Link to={`/workflows/${w.id}`} className="strong" dir="auto">{w.name}</Link>
                          <div className="muted small clamp" dir="auto">{w.description}</div>
                        </td>
                        <td>{w.workflowType}</td>
                        <td><StatusBadge status={w.status} /></td>
                        <td className="progress-cell">
                          <ProgressBar value={value} label={`${w.name} progress`} />
                          <span className="small muted">{w.currentStep}/{total} steps</span>
                        </td>
                        <td>{w.participatingAgents.length}</td>
                        <td className="small">{relativeTime(w.startedAt)}</td>
                        <td>
                          <div className="actions row-actions">
                            <button type="button" className="button secondary small" onClick={() => duplicate(w)}
                              aria-label={`Duplicate ${w.name}`}>Duplicate</button>
                            <button type="button" className="button secondary small" onClick={() => exportFile(w)}
                              aria-label={`Export ${w.name} as YAML`}>Export</button>
                            <button type="button" className="button danger small" onClick={() => remove(w)}
                              aria-label={`Delete ${w.name}`}>Delete</button>
                          </div>
                        </td>
                      </tr>
                    );
                  })}
                </tbody>
              </table>
            </div>
          )}
        </>
      )}
    </Page>
  );
}

/** “Name (copy)”, or “Name (copy 2)” and so on when that is taken. */
export function copyName(name: string, taken: string[]): string {
  const base = name.replace(/ \(copy(?: \d+)?\)$/, "");
  let candidate = `${base} (copy)`;
  for (let n = 2; taken.includes(candidate); n++) candidate = `${base} (copy ${n})`;
  return candidate;
}
