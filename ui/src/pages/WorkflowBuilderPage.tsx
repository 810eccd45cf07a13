import { useCallback } from "react";
import { Link, useNavigate, useParams } from "react-router-dom";
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

  const validate = useCallback(async (request: CreateWorkflowRequest): Promise<Problem[]> => {
    const result = await api.post<{ valid: boolean; problems: Problem[] }>("/workflows/validate", request);
    return result.problems ?? [];
  }, []);

  const save = async (request: CreateWorkflowRequest) => {
    const saved = workflowId
      ? await api.patch<Workflow>(`/workflows/${workflowId}`, request)
      : await api.post<Workflow>("/workflows", request);
    navigate(`/workflows/${saved.id}`);
  };

  const title = workflowId ? `Edit ${workflow.data?.name ?? "workflow"}` : "New workflow";
  const error = agents.error ?? workflow.error;
  if (error) return <Page title={title}><ErrorState error={error} onRetry={agents.reload} /></Page>;
  if (!agents.data || (workflowId && !workflow.data)) return <Page title={title}><Loading what="the builder" /></Page>;
  if (agents.data.length === 0) {
    return (
      <Page title={title}>
        <EmptyState title="No agents yet" action={<Link className="button" to="/agents?new=1">Create an agent</Link>}>
          A workflow's steps are carried out by your agents. Create at least one agent first.
        </EmptyState>
      </Page>
    );
  }
  const initial = workflow.data ? toRequest(workflow.data) : emptyWorkflow();
  return (
    <Page title={title} subtitle="Describe the work as steps; the team decides who does what.">
      <WorkflowBuilder
        agents={agents.data}
        initial={initial}
        validate={validate}
        onSubmit={save}
        submitLabel={workflowId ? "Save changes" : "Create workflow"}
        onCancel={() => navigate(workflowId ? `/workflows/${workflowId}` : "/workflows")}
      />
    </Page>
  );
}

function toRequest(w: Workflow): CreateWorkflowRequest {
  return {
    name: w.name,
    description: w.description,
    workflowType: w.workflowType,
    participatingAgents: w.participatingAgents,
    coordinatorAgentId: w.coordinatorAgentId,
    configuration: w.configuration,
  };
}
