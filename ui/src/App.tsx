import { useState } from "react";
import { Navigate, NavLink, Route, Routes, useParams } from "react-router-dom";
import { api } from "./api/client";
import { useEventStream } from "./api/events";
import type { Execution, Interaction, ToolApproval, User } from "./api/types";
import { useResource } from "./api/useResource";
import { ErrorState, Loading } from "./components/ui";
import { AgentsPage } from "./pages/AgentsPage";
import { ApprovalsPage } from "./pages/ApprovalsPage";
import { McpServersPage } from "./pages/McpServersPage";
import { ProvidersPage } from "./pages/ProvidersPage";
import { QuestionsPage } from "./pages/QuestionsPage";
import { SettingsPage } from "./pages/SettingsPage";
import { TemplatesPage } from "./pages/TemplatesPage";
import { WorkflowBuilderPage } from "./pages/WorkflowBuilderPage";
import { WorkflowPage } from "./pages/WorkflowPage";
import { WorkflowsPage } from "./pages/WorkflowsPage";

export function App() {
  const me = useResource<User>("me", () => api.get<User>("/me"));
  if (me.loading && !me.data) return <Loading what="Accord" />;
  if (me.error?.status === 401) return <SignIn onSignedIn={me.reload} />;
  if (me.error) return <ErrorState error={me.error} onRetry={me.reload} />;
  return <Shell user={me.data!} />;
}

/** Email and password (`POST /session` sets the session cookie); the one-time link works too. */
function SignIn({ onSignedIn }: { onSignedIn: () => void }) {
  const [email, setEmail] = useState("");
  const [password, setPassword] = useState("");
  const [problem, setProblem] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);
  const methods = useResource("sign-in-methods", () =>
    api.get<{ password: boolean; oidc: boolean }>("/sign-in-methods"),
  );

  async function submit(event: React.FormEvent) {
    event.preventDefault();
    setBusy(true);
    setProblem(null);
    try {
      await api.post<User>("/session", { email, password });
      onSignedIn();
    } catch (error) {
      setProblem(error instanceof Error ? error.message : String(error));
    } finally {
      setBusy(false);
    }
  }

  return (
    <div className="signin">
      <form className="card" onSubmit={submit} aria-label="Sign in">
        <h1>Sign in to Accord</h1>
        <label className="field">
          Email
          <input type="email" required autoComplete="username" value={email}
            onChange={(e) => setEmail(e.target.value)} />
        </label>
        <label className="field">
          Password
          <input type="password" required autoComplete="current-password" value={password}
            onChange={(e) => setPassword(e.target.value)} />
        </label>
        {problem && <p className="error-text" role="alert">{problem}</p>}
        <button className="button" type="submit" disabled={busy}>
          {busy ? "Signing in…" : "Sign in"}
        </button>
        {methods.data?.oidc && (
          <a className="button secondary" href="/auth/oidc/login">Sign in with your organisation</a>
        )}
        <p className="muted">
          On your own machine, open the one-time login link that <code>accord serve</code> printed
          instead (it looks like <code>http://127.0.0.1:8765/login?token=…</code>). No password yet?
          Ask an administrator, or run <code>accord users reset-password EMAIL</code> on the server.
        </p>
      </form>
    </div>
  );
}

function Shell({ user }: { user: User }) {
  const [menuOpen, setMenuOpen] = useState(false);
  const questions = useResource("questions", () =>
    api.get<Interaction[]>("/questions?status=pending"),
  );
  const approvals = useResource("approvals", () =>
    api.get<ToolApproval[]>("/approvals?status=pending"),
  );
  // Questions to the user and tool calls awaiting approval arrive live on the all-executions stream.
  useEventStream("/events", (event) => {
    if (event.kind.startsWith("interaction.") && event.data.toUserId) questions.reload();
    if (event.kind.startsWith("approval.")) approvals.reload();
  });
  const pending = questions.data?.length ?? 0;
  const waiting = approvals.data?.length ?? 0;
  const close = () => setMenuOpen(false);
  async function signOut() {
    // A session from a login link or a password alike; then the sign-in form shows.
    await api.delete("/session").catch(() => undefined);
    window.location.assign("/login");
  }

  return (
    <div className="shell">
      <header className="topbar">
        <button
          className="menu-button"
          aria-label="Menu"
          aria-expanded={menuOpen}
          onClick={() => setMenuOpen((o) => !o)}
        >
          ☰
        </button>
        <NavLink to="/workflows" className="brand" onClick={close}>
          Accord
        </NavLink>
        <span className="user">{user.displayName || user.email}</span>
        <button className="button small secondary" onClick={signOut}>Sign out</button>
      </header>
      <nav className={`sidebar${menuOpen ? " open" : ""}`} aria-label="Main">
        <NavLink to="/workflows" onClick={close}>Workflows</NavLink>
        <NavLink to="/templates" onClick={close}>Templates</NavLink>
        <NavLink to="/agents" onClick={close}>Agents</NavLink>
        <NavLink to="/providers" onClick={close}>Providers</NavLink>
        <NavLink to="/mcp-servers" onClick={close}>MCP servers</NavLink>
        <NavLink to="/questions" onClick={close}>
          Questions {pending > 0 && <span className="count" aria-label={`${pending} pending`}>{pending}</span>}
        </NavLink>
        <NavLink to="/approvals" onClick={close}>
          Approvals {waiting > 0 && <span className="count" aria-label={`${waiting} waiting`}>{waiting}</span>}
        </NavLink>
        <NavLink to="/settings" onClick={close}>Settings</NavLink>
      </nav>
      <main className="content">
        <Routes>
          <Route path="/" element={<Navigate to="/workflows" replace />} />
          <Route path="/workflows" element={<WorkflowsPage />} />
          <Route path="/workflows/new" element={<WorkflowBuilderPage />} />
          <Route path="/workflows/:workflowId/edit" element={<WorkflowBuilderPage />} />
          <Route path="/workflows/:workflowId" element={<WorkflowPage />} />
          <Route path="/workflows/:workflowId/executions/:executionId" element={<WorkflowPage />} />
          <Route path="/executions/:executionId" element={<ExecutionRedirect />} />
          <Route path="/templates" element={<TemplatesPage />} />
          <Route path="/agents" element={<AgentsPage />} />
          <Route path="/providers" element={<ProvidersPage />} />
          <Route path="/mcp-servers" element={<McpServersPage />} />
          <Route path="/questions" element={<QuestionsPage onAnswered={questions.reload} />} />
          <Route path="/approvals" element={<ApprovalsPage onDecided={approvals.reload} />} />
          <Route path="/settings" element={<SettingsPage user={user} />} />
          <Route path="*" element={<ErrorState error={new Error("There is no page at this address.")} />} />
        </Routes>
      </main>
    </div>
  );
}

/** `/executions/{id}` (linked from questions) opens that run in its workflow's monitor. */
function ExecutionRedirect() {
  const { executionId } = useParams();
  const execution = useResource(executionId ?? null, () => api.get<Execution>(`/executions/${executionId}`));
  if (execution.error) return <ErrorState error={execution.error} />;
  if (!execution.data) return <Loading what="the run" />;
  return <Navigate replace to={`/workflows/${execution.data.workflowId}/executions/${execution.data.id}`} />;
}
