// Settings: the user's API tokens (scope, expiry; the secret shown once), their browser
// sessions, and for administrators the server's users.
import { useState } from "react";
import { api, ApiError } from "../api/client";
import type { ApiToken, BrowserSession, TokenCreated, TokenScope, User } from "../api/types";
import { useResource } from "../api/useResource";
import { Card, ErrorState, Loading, Page, relativeTime } from "../components/ui";
import { FormError } from "./AgentsPage";

const SCOPES: { value: TokenScope; label: string }[] = [
  { value: "read", label: "read: watch only" },
  { value: "run", label: "run: also start, control, answer, approve" },
  { value: "admin", label: "admin: everything you may do" },
];

function when(iso: string | null, never = "never"): string {
  return iso ? relativeTime(iso) : never;
}

export function SettingsPage({ user }: { user: User }) {
  return (
    <Page title="Settings" subtitle={`Signed in as ${user.displayName} (${user.email}).`}>
      <TokensCard />
      <SessionsCard />
      {user.isAdmin && <UsersCard me={user} />}
    </Page>
  );
}

function TokensCard() {
  const tokens = useResource("tokens", () => api.get<ApiToken[]>("/tokens"));
  const [name, setName] = useState("");
  const [scope, setScope] = useState<TokenScope>("run");
  const [days, setDays] = useState("90");
  const [created, setCreated] = useState<TokenCreated | null>(null);
  const [error, setError] = useState<ApiError | null>(null);

  async function create(event: React.FormEvent) {
    event.preventDefault();
    setError(null);
    try {
      const made = await api.post<TokenCreated>("/tokens", {
        name,
        scope,
        expiresInDays: days ? Number(days) : null,
      });
      setCreated(made);
      setName("");
      tokens.reload();
    } catch (e) {
      if (e instanceof ApiError) setError(e);
    }
  }

  async function revoke(token: ApiToken) {
    if (!window.confirm(`Revoke the token “${token.name}”? Scripts using it stop at once.`)) return;
    await api.delete(`/tokens/${token.id}`).catch((e: Error) => window.alert(e.message));
    tokens.reload();
  }

  return (
    <Card title="API tokens">
      <form className="inline-form" onSubmit={create} aria-label="New API token">
        <label className="field">Name<input required value={name} onChange={(e) => setName(e.target.value)} placeholder="e.g. CI" /></label>
        <label className="field">Scope
          <select value={scope} onChange={(e) => setScope(e.target.value as TokenScope)}>
            {SCOPES.map((s) => <option key={s.value} value={s.value}>{s.label}</option>)}
          </select>
        </label>
        <label className="field">Expires after (days, empty: never)
          <input type="number" min={1} max={3650} value={days} onChange={(e) => setDays(e.target.value)} />
        </label>
        <button className="button" type="submit">Create token</button>
      </form>
      {error && <FormError error={error} />}
      {created && (
        <div className="notice" role="status">
          <p>Copy the token “{created.name}” now: it is not shown again.</p>
          <code className="secret">{created.token}</code>
        </div>
      )}
      {tokens.error ? <ErrorState error={tokens.error} onRetry={tokens.reload} /> : !tokens.data ? <Loading what="tokens" /> : (
        <div className="table-wrap">
          <table className="table" aria-label="API tokens">
            <thead><tr><th>Name</th><th>Scope</th><th>Created</th><th>Last used</th><th>Expires</th><th /></tr></thead>
            <tbody>
              {tokens.data.map((t) => (
                <tr key={t.id}>
                  <td>{t.name}</td><td>{t.scope}</td><td>{relativeTime(t.createdAt)}</td>
                  <td>{when(t.lastUsedAt)}</td><td>{t.expiresAt ? new Date(t.expiresAt).toLocaleDateString() : "never"}</td>
                  <td><button className="button small danger" onClick={() => revoke(t)}>Revoke</button></td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      )}
    </Card>
  );
}

function SessionsCard() {
  const sessions = useResource("sessions", () => api.get<BrowserSession[]>("/me/sessions"));
  async function end(session: BrowserSession) {
    await api.delete(`/me/sessions/${session.id}`).catch((e: Error) => window.alert(e.message));
    sessions.reload();
  }
  return (
    <Card title="Browser sessions">
      {sessions.error ? <ErrorState error={sessions.error} onRetry={sessions.reload} /> : !sessions.data ? <Loading what="sessions" /> : (
        <div className="table-wrap">
          <table className="table" aria-label="Browser sessions">
            <thead><tr><th>Signed in</th><th>Last used</th><th>Ends</th><th /></tr></thead>
            <tbody>
              {sessions.data.map((s) => (
                <tr key={s.id}>
                  <td>{relativeTime(s.createdAt)}{s.current ? " (this browser)" : ""}</td>
                  <td>{when(s.lastUsedAt)}</td>
                  <td>{s.expiresAt ? new Date(s.expiresAt).toLocaleString() : "-"}</td>
                  <td>{!s.current && <button className="button small danger" onClick={() => end(s)}>End</button>}</td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      )}
    </Card>
  );
}

function UsersCard({ me }: { me: User }) {
  const users = useResource("users", () => api.get<User[]>("/users"));
  const [email, setEmail] = useState("");
  const [displayName, setDisplayName] = useState("");
  const [password, setPassword] = useState("");
  const [isAdmin, setIsAdmin] = useState(false);
  const [error, setError] = useState<ApiError | null>(null);

  async function create(event: React.FormEvent) {
    event.preventDefault();
    setError(null);
    try {
      await api.post<User>("/users", { email, displayName, password: password || null, isAdmin });
      setEmail(""); setDisplayName(""); setPassword(""); setIsAdmin(false);
      users.reload();
    } catch (e) {
      if (e instanceof ApiError) setError(e);
    }
  }

  async function change(user: User, body: Partial<{ disabled: boolean; isAdmin: boolean }>) {
    try {
      await api.patch<User>(`/users/${user.id}`, body);
      users.reload();
    } catch (e) {
      window.alert(e instanceof Error ? e.message : String(e));
    }
  }

  return (
    <Card title="Users">
      <form className="inline-form" onSubmit={create} aria-label="New user">
        <label className="field">Email<input type="email" required value={email} onChange={(e) => setEmail(e.target.value)} /></label>
        <label className="field">Name<input required value={displayName} onChange={(e) => setDisplayName(e.target.value)} /></label>
        <label className="field">Password (10+ characters)<input type="password" autoComplete="new-password" value={password} onChange={(e) => setPassword(e.target.value)} /></label>
        <label className="checkbox"><input type="checkbox" checked={isAdmin} onChange={(e) => setIsAdmin(e.target.checked)} /> Administrator</label>
        <button className="button" type="submit">Add user</button>
      </form>
      {error && <FormError error={error} />}
      {users.error ? <ErrorState error={users.error} onRetry={users.reload} /> : !users.data ? <Loading what="users" /> : (
        <div className="table-wrap">
          <table className="table" aria-label="Users">
            <thead><tr><th>Name</th><th>Email</th><th>Role</th><th>Status</th><th /></tr></thead>
            <tbody>
              {users.data.map((u) => (
                <tr key={u.id}>
                  <td>{u.displayName}</td><td>{u.email}</td>
                  <td>{u.isAdmin ? "administrator" : "user"}</td>
                  <td>{u.disabled ? "disabled" : "active"}</td>
                  <td>
                    {u.id !== me.id && (
                      <>
                        <button className="button small secondary" onClick={() => change(u, { isAdmin: !u.isAdmin })}>
                          {u.isAdmin ? "Remove administrator" : "Make administrator"}
                        </button>{" "}
                        <button className="button small danger" onClick={() => change(u, { disabled: !u.disabled })}>
                          {u.disabled ? "Enable" : "Disable"}
                        </button>
                      </>
                    )}
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      )}
    </Card>
  );
}
