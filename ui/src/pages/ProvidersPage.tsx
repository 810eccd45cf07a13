import { useState } from "react";
import { api, ApiError } from "../api/client";
import { PROVIDER_KINDS, type LlmProvider, type ProviderInput, type ProviderKind } from "../api/types";
import { useResource } from "../api/useResource";
import { Card, EmptyState, ErrorState, Loading, Page } from "../components/ui";
import { FormError } from "./AgentsPage";

const KIND_LABELS: Record<ProviderKind, string> = {
  offline: "Offline (built in, no key)",
  openai: "OpenAI",
  openai_compatible: "OpenAI-compatible (Ollama, vLLM, LM Studio…)",
  anthropic: "Anthropic",
};
const DEFAULT_MODELS: Record<ProviderKind, string> = {
  offline: "accord-offline",
  openai: "gpt-4o-mini",
  openai_compatible: "llama3.1",
  anthropic: "claude-3-5-haiku-latest",
};

export function ProvidersPage() {
  const providers = useResource("providers", () => api.get<LlmProvider[]>("/providers"));
  const [editing, setEditing] = useState<LlmProvider | "new" | null>(null);
  const saved = (p: LlmProvider) => {
    providers.setData((list) => (list?.some((x) => x.id === p.id) ? list.map((x) => (x.id === p.id ? p : x)) : [...(list ?? []), p]));
    setEditing(null);
  };
  const remove = async (p: LlmProvider) => {
    if (!window.confirm(`Delete the provider “${p.name}”?`)) return;
    try {
      await api.delete(`/providers/${p.id}`);
      providers.setData((list) => list?.filter((x) => x.id !== p.id));
    } catch (e) {
      window.alert(e instanceof Error ? e.message : String(e));
    }
  };

  return (
    <Page title="Providers" subtitle="Where agents' models run. API keys are stored encrypted and never shown again."
      actions={<button className="button" onClick={() => setEditing("new")}>New provider</button>}>
      {editing && (
        <ProviderForm key={editing === "new" ? "new" : editing.id} provider={editing === "new" ? undefined : editing}
          onSaved={saved} onCancel={() => setEditing(null)} />
      )}
      {providers.error ? (
        <ErrorState error={providers.error} onRetry={providers.reload} />
      ) : !providers.data ? (
        <Loading what="providers" />
      ) : providers.data.length === 0 ? (
        !editing && (
          <EmptyState title="No providers yet" action={<button className="button" onClick={() => setEditing("new")}>Add a provider</button>}>
            Without one, agents use the built-in offline model. Add OpenAI, Anthropic or a local server to use real models.
          </EmptyState>
        )
      ) : (
        <div className="table-wrap">
          <table className="table">
            <thead><tr><th>Name</th><th>Kind</th><th>Default model</th><th>Base URL</th><th>API key</th><th /></tr></thead>
            <tbody>
              {providers.data.map((p) => (
                <tr key={p.id}>
                  <td className="strong">{p.name}</td>
                  <td>{KIND_LABELS[p.kind] ?? p.kind}</td>
                  <td>{p.defaultModel}</td>
                  <td className="small">{p.baseUrl ?? "—"}</td>
                  <td>{p.hasApiKey ? "Saved" : "None"}</td>
                  <td className="actions">
                    <button className="button small secondary" onClick={() => setEditing(p)}>Edit</button>
                    <button className="button small danger" onClick={() => remove(p)}>Delete</button>
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      )}
    </Page>
  );
}

function ProviderForm({ provider, onSaved, onCancel }: {
  provider?: LlmProvider;
  onSaved: (p: LlmProvider) => void;
  onCancel: () => void;
}) {
  const [form, setForm] = useState<ProviderInput>(
    provider
      ? { name: provider.name, kind: provider.kind, baseUrl: provider.baseUrl, defaultModel: provider.defaultModel, settings: provider.settings }
      : { name: "", kind: "openai", baseUrl: null, defaultModel: DEFAULT_MODELS.openai, settings: {} },
  );
  const [apiKey, setApiKey] = useState("");
  const [error, setError] = useState<ApiError>();
  const [saving, setSaving] = useState(false);
  const set = (changes: Partial<ProviderInput>) => setForm((f) => ({ ...f, ...changes }));
  const setSetting = (key: string, value: number | undefined) =>
    setForm((f) => {
      const settings = { ...(f.settings ?? {}) };
      if (value === undefined) delete settings[key];
      else settings[key] = value;
      return { ...f, settings };
    });
  const needsKey = form.kind === "openai" || form.kind === "anthropic" || form.kind === "openai_compatible";

  const submit = async (event: React.FormEvent) => {
    event.preventDefault();
    setSaving(true);
    setError(undefined);
    // The key is sent only when typed: leaving it blank keeps the saved one.
    const body: ProviderInput = { ...form, ...(apiKey ? { apiKey } : {}) };
    try {
      onSaved(provider ? await api.patch<LlmProvider>(`/providers/${provider.id}`, body) : await api.post<LlmProvider>("/providers", body));
    } catch (e) {
      setError(e instanceof ApiError ? e : new ApiError(0, "client", String(e), {}));
    } finally {
      setSaving(false);
    }
  };

  return (
    <Card title={provider ? `Edit ${provider.name}` : "New provider"} className="form-card">
      <form onSubmit={submit} className="form">
        <div className="grid-2">
          <label className="field">Name<input required value={form.name} onChange={(e) => set({ name: e.target.value })} placeholder="e.g. OpenAI (work)" /></label>
          <label className="field">Kind
            <select value={form.kind} onChange={(e) => {
              const kind = e.target.value as ProviderKind;
              set({ kind, defaultModel: provider ? form.defaultModel : DEFAULT_MODELS[kind] });
            }}>
              {PROVIDER_KINDS.map((k) => <option key={k} value={k}>{KIND_LABELS[k]}</option>)}
            </select>
          </label>
        </div>
        <div className="grid-2">
          <label className="field">Default model<input required value={form.defaultModel} onChange={(e) => set({ defaultModel: e.target.value })} /></label>
          {(form.kind === "openai_compatible" || form.baseUrl) && (
            <label className="field">Base URL<input value={form.baseUrl ?? ""} placeholder="http://127.0.0.1:11434/v1"
              onChange={(e) => set({ baseUrl: e.target.value || null })} /></label>
          )}
        </div>
        {form.kind === "offline" && (
          <div className="grid-2">
            <label className="field">Simulated latency (seconds)
              <input type="number" min={0} step="0.1" value={String(form.settings?.latencySeconds ?? "")} placeholder="0"
                onChange={(e) => setSetting("latencySeconds", e.target.value === "" ? undefined : Number(e.target.value))} />
              <span className="hint">Slows each answer down, so a run can be watched step by step.</span>
            </label>
            <label className="field">Seed
              <input type="number" value={String(form.settings?.seed ?? "")} placeholder="Random"
                onChange={(e) => setSetting("seed", e.target.value === "" ? undefined : Number(e.target.value))} />
            </label>
          </div>
        )}
        {needsKey && (
          <label className="field">API key
            <input type="password" autoComplete="off" value={apiKey} onChange={(e) => setApiKey(e.target.value)}
              placeholder={provider?.hasApiKey ? "Saved. Type a new key to replace it" : "sk-…"} />
            <span className="hint">Write-only: the key is encrypted on the server and never shown again.</span>
          </label>
        )}
        {error && <FormError error={error} />}
        <div className="actions end">
          <button type="button" className="button secondary" onClick={onCancel}>Cancel</button>
          <button className="button" disabled={saving}>{saving ? "Saving…" : provider ? "Save provider" : "Create provider"}</button>
        </div>
      </form>
    </Card>
  );
}
