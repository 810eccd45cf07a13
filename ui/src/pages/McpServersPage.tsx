// Saved MCP servers: configured once, named from any workflow's `mcpServers` as
// `{saved: NAME}`. `env` and `headers` values are write-only: the list shows their keys only.
import { useState } from "react";
import { api, ApiError } from "../api/client";
import type { McpServer, McpServerInput } from "../api/types";
import { useResource } from "../api/useResource";
import { Card, EmptyState, ErrorState, Loading, Page } from "../components/ui";
import { FormError } from "./AgentsPage";

/** `KEY=value` lines as a map; blank lines are skipped, a line without `=` is an error. */
export function parsePairs(text: string, what: string): Record<string, string> {
  const pairs: Record<string, string> = {};
  for (const raw of text.split("\n")) {
    const line = raw.trim();
    if (!line) continue;
    const at = line.indexOf("=");
    if (at <= 0) throw new Error(`${what}: “${line}” is not KEY=value`);
    pairs[line.slice(0, at).trim()] = line.slice(at + 1).trim();
  }
  return pairs;
}

export function McpServersPage() {
  const servers = useResource("mcp-servers", () => api.get<McpServer[]>("/mcp-servers"));
  const [editing, setEditing] = useState<McpServer | "new" | null>(null);
  const saved = (s: McpServer) => {
    servers.setData((list) => (list?.some((x) => x.id === s.id) ? list.map((x) => (x.id === s.id ? s : x)) : [...(list ?? []), s]));
    setEditing(null);
  };
  const remove = async (s: McpServer) => {
    if (!window.confirm(`Delete the MCP server “${s.name}”?`)) return;
    try {
      await api.delete(`/mcp-servers/${s.id}`);
      servers.setData((list) => list?.filter((x) => x.id !== s.id));
    } catch (e) {
      window.alert(e instanceof Error ? e.message : String(e));
    }
  };

  return (
    <Page title="MCP servers" subtitle="Tool servers saved once and named from any workflow. Secret values are stored encrypted and never shown again."
      actions={<button className="button" onClick={() => setEditing("new")}>New MCP server</button>}>
      {editing && (
        <McpServerForm key={editing === "new" ? "new" : editing.id} server={editing === "new" ? undefined : editing}
          onSaved={saved} onCancel={() => setEditing(null)} />
      )}
      {servers.error ? (
        <ErrorState error={servers.error} onRetry={servers.reload} />
      ) : !servers.data ? (
        <Loading what="MCP servers" />
      ) : servers.data.length === 0 ? (
        !editing && (
          <EmptyState title="No saved MCP servers yet" action={<button className="button" onClick={() => setEditing("new")}>Add an MCP server</button>}>
            Save a server here, then name it in a workflow: <code>mcpServers: {"{"}files: {"{"}saved: my-files{"}}"}</code>.
          </EmptyState>
        )
      ) : (
        <div className="table-wrap">
          <table className="table" aria-label="MCP servers">
            <thead><tr><th>Name</th><th>Transport</th><th>Reaches</th><th>Secrets</th><th>Approval</th><th /></tr></thead>
            <tbody>
              {servers.data.map((s) => (
                <tr key={s.id}>
                  <td className="strong">{s.name}</td>
                  <td>{s.transport === "stdio" ? "stdio" : "HTTP"}</td>
                  <td className="small"><code>{s.command ? [s.command, ...s.args].join(" ") : s.url}</code></td>
                  <td className="small">{[...Object.keys(s.env), ...Object.keys(s.headers)].join(", ") || "—"}</td>
                  <td>{s.requireApproval ? "Required" : "—"}</td>
                  <td className="actions">
                    <button className="button small secondary" onClick={() => setEditing(s)}>Edit</button>
                    <button className="button small danger" onClick={() => remove(s)}>Delete</button>
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

export function McpServerForm({ server, onSaved, onCancel }: {
  server?: McpServer;
  onSaved: (s: McpServer) => void;
  onCancel: () => void;
}) {
  const [name, setName] = useState(server?.name ?? "");
  const [transport, setTransport] = useState<"stdio" | "http">(server?.transport ?? "stdio");
  const [command, setCommand] = useState(server?.command ?? "");
  const [args, setArgs] = useState((server?.args ?? []).join("\n"));
  const [cwd, setCwd] = useState(server?.cwd ?? "");
  const [url, setUrl] = useState(server?.url ?? "");
  const [secrets, setSecrets] = useState("");
  const [requireApproval, setRequireApproval] = useState(server?.requireApproval ?? false);
  const [error, setError] = useState<ApiError>();
  const [saving, setSaving] = useState(false);
  const savedKeys = Object.keys(transport === "stdio" ? server?.env ?? {} : server?.headers ?? {});
  const secretLabel = transport === "stdio" ? "Environment" : "Headers";

  const submit = async (event: React.FormEvent) => {
    event.preventDefault();
    setError(undefined);
    let body: McpServerInput;
    try {
      // Secret values are sent only when typed: leaving the box empty keeps the saved ones.
      const typed = secrets.trim() ? parsePairs(secrets, secretLabel) : undefined;
      body = transport === "stdio"
        ? { name, command, args: args.split("\n").map((a) => a.trim()).filter(Boolean), cwd: cwd || null, requireApproval, ...(typed ? { env: typed } : {}) }
        : { name, url, requireApproval, ...(typed ? { headers: typed } : {}) };
    } catch (e) {
      setError(new ApiError(0, "client", e instanceof Error ? e.message : String(e), {}));
      return;
    }
    setSaving(true);
    try {
      onSaved(server ? await api.patch<McpServer>(`/mcp-servers/${server.id}`, body) : await api.post<McpServer>("/mcp-servers", body));
    } catch (e) {
      setError(e instanceof ApiError ? e : new ApiError(0, "client", String(e), {}));
    } finally {
      setSaving(false);
    }
  };

  return (
    <Card title={server ? `Edit ${server.name}` : "New MCP server"} className="form-card">
      <form onSubmit={submit} className="form">
        <div className="grid-2">
          <label className="field">Name<input required value={name} onChange={(e) => setName(e.target.value)} placeholder="e.g. my-files" /></label>
          <label className="field">Transport
            <select value={transport} onChange={(e) => setTransport(e.target.value as "stdio" | "http")}>
              <option value="stdio">stdio (a program this machine starts)</option>
              <option value="http">Streamable HTTP (a URL)</option>
            </select>
          </label>
        </div>
        {transport === "stdio" ? (
          <>
            <div className="grid-2">
              <label className="field">Command<input required value={command} onChange={(e) => setCommand(e.target.value)} placeholder="npx" /></label>
              <label className="field">Working folder<input value={cwd} onChange={(e) => setCwd(e.target.value)} placeholder="Optional" /></label>
            </div>
            <label className="field">Arguments (one per line)
              <textarea rows={3} value={args} onChange={(e) => setArgs(e.target.value)}
                placeholder={"-y\n@modelcontextprotocol/server-filesystem\n${WORKSPACE}"} />
            </label>
          </>
        ) : (
          <label className="field">URL<input required value={url} onChange={(e) => setUrl(e.target.value)} placeholder="https://example.com/mcp" /></label>
        )}
        <label className="field">{secretLabel} (KEY=value, one per line)
          <textarea rows={2} autoComplete="off" value={secrets} onChange={(e) => setSecrets(e.target.value)}
            placeholder={savedKeys.length ? `Saved: ${savedKeys.join(", ")}. Type them all again to replace them` : transport === "stdio" ? "API_TOKEN=…" : "Authorization=Bearer …"} />
          <span className="hint">Write-only: values are encrypted on the server and never shown again; <code>${"{"}VAR{"}"}</code> is expanded where the step runs.</span>
        </label>
        <label className="check">
          <input type="checkbox" checked={requireApproval} onChange={(e) => setRequireApproval(e.target.checked)} />
          Every call waits for a person's approval
        </label>
        {error && <FormError error={error} />}
        <div className="actions end">
          <button type="button" className="button secondary" onClick={onCancel}>Cancel</button>
          <button className="button" disabled={saving}>{saving ? "Saving…" : server ? "Save MCP server" : "Create MCP server"}</button>
        </div>
      </form>
    </Card>
  );
}
