import { useCallback, useEffect, useRef, useState } from "react";
import { Link, useBlocker, useNavigate, useParams } from "react-router-dom";
import { api } from "../api/client";
import type { Agent, CreateWorkflowRequest, Problem, Workflow } from "../api/types";
import { useResource } from "../api/useResource";
import { WorkflowBuilder, emptyWorkflow } from "../builder/WorkflowBuilder";
import { EmptyState, ErrorState, Loading, Page } from "../components/ui";

export function WorkflowBuilderPage() {
  const { workflowId } = useParams();
  const navigate = useNavigate();
  const agents = useResource("agents", () => api.get<Agent[]>("/agents"));
  const workflow = useResource(workflowId ?? null, () => api.get<Workflow>(`/workflows/${workflowId}`));
  const workflows = useResource("workflows", () => api.get<Workflow[]>("/workflows"));
  const [dirty, setDirty] = useState(false);
  const saved = useRef(false);
  useUnsavedChangesGuard(dirty, saved);

  const validate = useCallback(async (request: CreateWorkflowRequest): Promise<Problem[]> => {
    const result = await api.post<{ valid: boolean; problems: Problem[] }>("/workflows/validate", request);
    return result.problems ?? [];
  }, []);

  const save = async (request: CreateWorkflowRequest) => {
    const result = workflowId
      ? await api.patch<Workflow>(`/workflows/${workflowId}`, request)
      : await api.post<Workflow>("/workflows", request);
    saved.current = true;
    navigate(`/workflows/${result.id}`);
  };

  const name = workflow.data?.name;
  const title = workflowId ? `Edit ${name ?? "workflow"}` : "New workflow";
  const initial = useInitial(workflow.data);
  const error = agents.error ?? workflow.error;
  if (error) return <Page title={title}><ErrorState error={error} onRetry={agents.reload} /></Page>;
  if (!agents.data || (workflowId && !initial)) return <Page title={title}><Loading what="the builder" /></Page>;
  if (agents.data.length === 0) {
    return (
      <Page title={title}>
        <EmptyState title="No agents yet" action={<Link className="button" to="/agents?new=1">Create an agent</Link>}>
          A workflow's steps are carried out by your agents. Create at least one agent first.
        </EmptyState>
      </Page>
    );
  }
  return (
    <Page title={title} subtitle="Describe the work as steps; the team decides who does what.">
      <WorkflowBuilder
        agents={agents.data}
        workflows={(workflows.data ?? []).filter((w) => w.id !== workflowId)}
        initial={initial ?? EMPTY}
        validate={validate}
        onSubmit={save}
        submitLabel={workflowId ? "Save changes" : "Create workflow"}
        onCancel={() => navigate(workflowId ? `/workflows/${workflowId}` : "/workflows")}
        onDirtyChange={setDirty}
      />
    </Page>
  );
}

const EMPTY = emptyWorkflow();

/** The loaded workflow as a request, the same object while it is the same workflow. */
function useInitial(w: Workflow | undefined): CreateWorkflowRequest | undefined {
  const [initial, setInitial] = useState<{ id: string; request: CreateWorkflowRequest }>();
  if (w && initial?.id !== w.id) {
    setInitial({
      id: w.id,
      request: {
        name: w.name,
        description: w.description,
        workflowType: w.workflowType,
        participatingAgents: w.participatingAgents,
        coordinatorAgentId: w.coordinatorAgentId,
        configuration: w.configuration,
      },
    });
  }
  return w ? initial?.request : undefined;
}

/** Asks before leaving with unsaved changes: in-app links (the router) and closing the tab. */
function useUnsavedChangesGuard(dirty: boolean, saved: React.RefObject<boolean>) {
  const blocker = useBlocker(({ currentLocation, nextLocation }) =>
    dirty && !saved.current && currentLocation.pathname !== nextLocation.pathname);
  useEffect(() => {
    if (blocker.state !== "blocked") return;
    if (window.confirm("Leave without saving? Your changes to this workflow will be lost.")) blocker.proceed();
    else blocker.reset();
  }, [blocker]);
  useEffect(() => {
    if (!dirty) return;
    const warn = (event: BeforeUnloadEvent) => {
      event.preventDefault();
    };
    window.addEventListener("beforeunload", warn);
    return () => window.removeEventListener("beforeunload", warn);
  }, [dirty]);
}
