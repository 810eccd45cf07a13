import { useRef } from "react";
import { Link } from "react-router-dom";
import { api } from "../api/client";
import { useEventStream } from "../api/events";
import type { Agent, Workflow } from "../api/types";
import { useResource } from "../api/useResource";
import { EmptyState, ErrorState, Loading, Page, ProgressBar, StatusBadge, relativeTime } from "../components/ui";

export function WorkflowsPage() {
  const workflows = useResource("workflows", () => api.get<Workflow[]>("/workflows"));
  const agents = useResource("agents", () => api.get<Agent[]>("/agents"));
  const pendingReload = useRef<number | undefined>(undefined);

  // Status and progress change live: reload the list (at most every 500 ms) when they do.
  useEventStream("/events", (event) => {
    const relevant = event.kind.startsWith("execution.") || event.kind.startsWith("step.");
    if (!relevant || pendingReload.current !== undefined) return;
    pendingReload.current = window.setTimeout(() => {
      pendingReload.current = undefined;
      workflows.reload();
    }, 500);
  });

  const actions = (
    <>
      <Link className="button secondary" to="/templates">From a template</Link>
      <Link className="button" to="/workflows/new">New workflow</Link>
    </>
  );

  return (
    <Page title="Workflows" subtitle="Teams of agents working through steps together." actions={actions}>
      {workflows.error ? (
        <ErrorState error={workflows.error} onRetry={workflows.reload} />
      ) : !workflows.data ? (
        <Loading what="workflows" />
      ) : workflows.data.length === 0 ? (
        agents.data && agents.data.length === 0 ? (
          <EmptyState
            title="No agents yet"
            action={<Link className="button" to="/agents?new=1">Create an agent</Link>}
          >
            A workflow is carried out by a team of agents. Create one or two agents first.
          </EmptyState>
        ) : (
          <EmptyState
            title="No workflows yet"
            action={<div className="actions">{actions}</div>}
          >
            Build a workflow step by step, or start from a template and map its roles to your agents.
          </EmptyState>
        )
      ) : (
        <div className="table-wrap">
          <table className="table">
            <thead>
              <tr>
                <th>Name</th>
                <th>Type</th>
                <th>Status</th>
                <th>Progress</th>
                <th>Agents</th>
                <th>Last run</th>
              </tr>
            </thead>
            <tbody>
              {workflows.data.map((w) => {
                const total = w.totalSteps || w.configuration.steps.length;
                const value = total ? Math.round((w.currentStep / total) * 100) : 0;
                return (
                  <tr key={w.id}>
                    <td>
                      <Link to={`/workflows/${w.id}`} className="strong">{w.name}</Link>
                      <div className="muted small clamp">{w.description}</div>
                    </td>
                    <td>{w.workflowType}</td>
                    <td><StatusBadge status={w.status} /></td>
                    <td className="progress-cell">
                      <ProgressBar value={value} label={`${w.name} progress`} />
                      <span className="small muted">{w.currentStep}/{total} steps</span>
                    </td>
                    <td>{w.participatingAgents.length}</td>
                    <td className="small">{relativeTime(w.startedAt)}</td>
                  </tr>
                );
              })}
            </tbody>
          </table>
        </div>
      )}
    </Page>
  );
}
