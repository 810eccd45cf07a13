import { useState } from "react";
import { Link, useSearchParams } from "react-router-dom";
import { api, ApiError } from "../api/client";
import type { Agent, AgentInput, LlmProvider } from "../api/types";
import { useResource } from "../api/useResource";
import { Card, EmptyState, ErrorState, Loading, Page } from "../components/ui";

const blank: AgentInput = { name: "", role: "", backstory: "", skills: [], llmProviderId: null, model: null };

export function AgentsPage() {
  const agents = useResource("agents", () => api.get<Agent[]>("/agents"));
  const providers = useResource("providers", () => api.get<LlmProvider[]>("/providers"));
  const [params, setParams] = useSearchParams();
  const [editing, setEditing] = useState<Agent | "new" | null>(params.get("new") ? "new" : null);
  const providerName = (id: string | null) =>
    (id && providers.data?.find((p) => p.id === id)?.name) || "Default model";

  const close = () => {
    setEditing(null);
    if (params.get("new")) setParams({});
  };
  const saved = (agent: Agent) => {
    agents.setData((list) => (list?.some((a) => a.id === agent.id) ? list.map((a) => (a.id === agent.id ? agent : a)) : [...(list ?? []), agent]));
    close();
  };

  return (
    <Page title="Agents" subtitle="Each agent has a role, skills and a model; workflows draw their teams from here."
      actions={<button className="button" onClick={() => setEditing("new")}>New agent</button>}>
      {editing && (
        <AgentForm key={editing === "new" ? "new" : editing.id} agent={editing === "new" ? undefined : editing}
          providers={providers.data ?? []} onSaved={saved} onCancel={close} />
      )}
      {agents.error ? (
        <ErrorState error={agents.error} onRetry={agents.reload} />
      ) : !agents.data ? (
        <Loading what="agents" />
      ) : agents.data.length === 0 ? (
        !editing && (
          <EmptyState title="No agents yet" action={<button className="button" onClick={() => setEditing("new")}>Create an agent</button>}>
            Agents do the work of a workflow. Start with two: say, a developer and a reviewer.
          </EmptyState>
        )
      ) : (
        <div className="cards">
          {agents.data.map((a) => (
            <div key={a.id} className="card agent-card">
              <div className="card-header">
                <h2>{a.name}</h2>
                <button className="button small secondary" onClick={() => setEditing(a)}>Edit</button>
              </div>
              <div className="muted">{a.role}</div>
              {a.backstory && <p className="small clamp">{a.backstory}</p>}
              <div className="chips">{a.skills.map((s) => <span key={s} className="chip">{s}</span>)}</div>
              <div className="small muted">{providerName(a.llmProviderId)}{a.model ? ` · ${a.model}` : ""}</div>
            </div>
          ))}
        </div>
      )}
      {providers.data && providers.data.length === 0 && (
        <p className="muted small">
          Agents without a provider use the built-in offline model. <Link to="/providers">Add a provider</Link> to use OpenAI, Anthropic or a local server.
        </p>
      )}
    </Page>
  );
}

function AgentForm({ agent, providers, onSaved, onCancel }: {
  agent?: Agent;
  providers: LlmProvider[];
  onSaved: (a: Agent) => void;
  onCancel: () => void;
}) {
  const [form, setForm] = useState<AgentInput>(agent ? { ...agent } : blank);
  const [skills, setSkills] = useState((agent?.skills ?? []).join(", "));
  const [error, setError] = useState<ApiError>();
  const [saving, setSaving] = useState(false);
  const set = (changes: Partial<AgentInput>) => setForm((f) => ({ ...f, ...changes }));

  const submit = async (event: React.FormEvent) => {
    event.preventDefault();
    setSaving(true);
    setError(undefined);
    const body = { ...form, skills: skills.split(",").map((s) => s.trim()).filter(Boolean) };
    const payload = { name: body.name, role: body.role, backstory: body.backstory, skills: body.skills, llmProviderId: body.llmProviderId, model: body.model };
    try {
      onSaved(agent ? await api.patch<Agent>(`/agents/${agent.id}`, payload) : await api.post<Agent>("/agents", payload));
    } catch (e) {
      setError(e instanceof ApiError ? e : new ApiError(0, "client", String(e), {}));
    } finally {
      setSaving(false);
    }
  };

  return (
    <Card title={agent ? `Edit ${agent.name}` : "New agent"} className="form-card">
      <form onSubmit={submit} className="form">
        <div className="grid-2">
          <label className="field">Name<input required value={form.name} onChange={(e) => set({ name: e.target.value })} placeholder="e.g. Ada" /></label>
          <label className="field">Role<input required value={form.role} onChange={(e) => set({ role: e.target.value })} placeholder="e.g. developer" /></label>
        </div>
        <label className="field">Skills (comma-separated)<input value={skills} onChange={(e) => setSkills(e.target.value)} placeholder="python, testing, api design" /></label>
        <label className="field">Backstory<textarea rows={3} value={form.backstory} onChange={(e) => set({ backstory: e.target.value })} placeholder="How this agent works and what it cares about" /></label>
        <div className="grid-2">
          <label className="field">Provider
            <select value={form.llmProviderId ?? ""} onChange={(e) => set({ llmProviderId: e.target.value || null })}>
              <option value="">Default (offline model)</option>
              {providers.map((p) => <option key={p.id} value={p.id}>{p.name} · {p.kind}</option>)}
            </select>
          </label>
          <label className="field">Model<input value={form.model ?? ""} onChange={(e) => set({ model: e.target.value || null })} placeholder="The provider's default" /></label>
        </div>
        {error && <FormError error={error} />}
        <div className="actions end">
          <button type="button" className="button secondary" onClick={onCancel}>Cancel</button>
          <button className="button" disabled={saving}>{saving ? "Saving…" : agent ? "Save agent" : "Create agent"}</button>
        </div>
      </form>
    </Card>
  );
}

export function FormError({ error }: { error: ApiError }) {
  return (
    <div className="error-state" role="alert">
      <p>{error.message}</p>
      {error.problems.length > 0 && (
        <ul className="problems">{error.problems.map((p, i) => <li key={i}>{p.field}: {p.message}{p.fix ? ` (${p.fix})` : ""}</li>)}</ul>
      )}
    </div>
  );
}
