import { useState } from "react";
import { Link, useNavigate } from "react-router-dom";
import { api, ApiError, query } from "../api/client";
import { TEMPLATE_CATEGORIES, type Agent, type Template, type TemplateCategory, type Workflow } from "../api/types";
import { useResource } from "../api/useResource";
import { StepGraph } from "../components/StepGraph";
import { Card, EmptyState, ErrorState, Loading, Page } from "../components/ui";
import { FormError } from "./AgentsPage";

export function TemplatesPage() {
  const [category, setCategory] = useState<TemplateCategory | "">("");
  const templates = useResource(`templates-${category}`, () => api.get<Template[]>(`/templates${query({ category })}`));
  const agents = useResource("agents", () => api.get<Agent[]>("/agents"));
  const [chosen, setChosen] = useState<Template>();

  return (
    <Page title="Templates" subtitle="Proven team shapes: pick one and map its roles to your agents.">
      <div className="tabs" role="tablist" aria-label="Categories">
        {(["", ...TEMPLATE_CATEGORIES] as const).map((c) => (
          <button key={c || "all"} role="tab" aria-selected={category === c} className={category === c ? "active" : ""}
            onClick={() => { setCategory(c); setChosen(undefined); }}>
            {c ? c[0].toUpperCase() + c.slice(1) : "All"}
          </button>
        ))}
      </div>
      {chosen && agents.data && (
        <UseTemplate template={chosen} agents={agents.data} onCancel={() => setChosen(undefined)} />
      )}
      {templates.error ? (
        <ErrorState error={templates.error} onRetry={templates.reload} />
      ) : !templates.data ? (
        <Loading what="templates" />
      ) : templates.data.length === 0 ? (
        <EmptyState title={category ? `No ${category} templates` : "No templates yet"}
          action={<Link className="button" to="/workflows/new">Build a workflow</Link>}>
          Build a workflow yourself and save it as a template from its page.
        </EmptyState>
      ) : (
        <div className="cards">
          {templates.data.map((t) => (
            <div key={t.id} className={`card template-card${chosen?.id === t.id ? " selected" : ""}`} data-testid="template">
              <div className="card-header">
                <h2>{t.name}</h2>
                <span className="badge">{t.category}</span>
              </div>
              <p className="small clamp">{t.description}</p>
              <div className="small muted">
                {t.workflowType} · {t.templateDefinition.steps.length} steps · used {t.usageCount}×
                {t.usageCount > 0 ? ` · ${successText(t.successRate)}` : ""}
              </div>
              <div className="chips">{t.requiredAgentRoles.map((r) => <span key={r} className="chip">{r}</span>)}</div>
              <div className="actions end">
                <button className="button small" onClick={() => setChosen(t)}>Use template</button>
              </div>
            </div>
          ))}
        </div>
      )}
    </Page>
  );
}

/** Maps each role the template needs to one of the user's agents (matching roles first). */
/** The API's success rate is a percentage already (0-100). */
export function successText(successRate: number): string {
  return `${Math.round(successRate)}% succeeded`;
}

export function suggestAssignments(roles: string[], agents: Agent[]): Record<string, string> {
  const taken = new Set<string>();
  const result: Record<string, string> = {};
  for (const role of roles) {
    const match =
      agents.find((a) => !taken.has(a.id) && a.role.toLowerCase() === role.toLowerCase()) ??
      agents.find((a) => !taken.has(a.id) && a.role.toLowerCase().includes(role.toLowerCase()));
    if (match) {
      result[role] = match.id;
      taken.add(match.id);
    }
  }
  return result;
}

function UseTemplate({ template, agents, onCancel }: { template: Template; agents: Agent[]; onCancel: () => void }) {
  const navigate = useNavigate();
  const [name, setName] = useState(template.name);
  const [assignments, setAssignments] = useState(() => suggestAssignments(template.requiredAgentRoles, agents));
  const [coordinator, setCoordinator] = useState("");
  const [error, setError] = useState<ApiError>();
  const [saving, setSaving] = useState(false);
  const participants = [...new Set(Object.values(assignments).filter(Boolean))];
  const missing = template.requiredAgentRoles.filter((r) => !assignments[r]);

  const create = async (event: React.FormEvent) => {
    event.preventDefault();
    setSaving(true);
    setError(undefined);
    try {
      const workflow = await api.post<Workflow>(`/templates/${template.id}/workflows`, {
        name,
        participatingAgents: participants,
        roleAssignments: assignments,
        coordinatorAgentId: coordinator || null,
      });
      navigate(`/workflows/${workflow.id}`);
    } catch (e) {
      setError(e instanceof ApiError ? e : new ApiError(0, "client", String(e), {}));
    } finally {
      setSaving(false);
    }
  };

  if (agents.length === 0) {
    return (
      <EmptyState title="No agents yet" action={<Link className="button" to="/agents?new=1">Create an agent</Link>}>
        This template needs agents for the roles {template.requiredAgentRoles.join(", ")}.
      </EmptyState>
    );
  }
  return (
    <Card title={`Use “${template.name}”`} className="form-card">
      <form className="form" onSubmit={create}>
        <label className="field">Workflow name<input required value={name} onChange={(e) => setName(e.target.value)} /></label>
        <div className="grid-2">
          {template.requiredAgentRoles.map((role) => (
            <label key={role} className="field">Agent for “{role}”
              <select value={assignments[role] ?? ""} onChange={(e) => setAssignments((a) => ({ ...a, [role]: e.target.value }))}>
                <option value="">Choose an agent</option>
                {agents.map((a) => <option key={a.id} value={a.id}>{a.name} · {a.role}</option>)}
              </select>
            </label>
          ))}
          <label className="field">Coordinator
            <select value={coordinator} onChange={(e) => setCoordinator(e.target.value)}>
              <option value="">No coordinator</option>
              {agents.filter((a) => participants.includes(a.id)).map((a) => <option key={a.id} value={a.id}>{a.name}</option>)}
            </select>
          </label>
        </div>
        <StepGraph steps={template.templateDefinition.steps} workflowType={template.workflowType} height={200} />
        {missing.length > 0 && <p className="hint">Choose an agent for: {missing.join(", ")}.</p>}
        {error && <FormError error={error} />}
        <div className="actions end">
          <button type="button" className="button secondary" onClick={onCancel}>Cancel</button>
          <button className="button" disabled={saving || missing.length > 0}>{saving ? "Creating…" : "Create workflow"}</button>
        </div>
      </form>
    </Card>
  );
}
