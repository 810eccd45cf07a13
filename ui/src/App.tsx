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
import { TemplatesPage } from "./pages/TemplatesPage";
import { WorkflowBuilderPage } from "./pages/WorkflowBuilderPage";
import { WorkflowPage } from "./pages/WorkflowPage";
import { WorkflowsPage } from "./pages/WorkflowsPage";

export function App() {
  const me = useResource<User>("me", () => api.get<User>("/me"));
  if (me.loading && !me.data) return <Loading what="Accord" />;
  if (me.error?.status === 401) return <SignIn />;
  if (me.error) return <ErrorState error={me.error} onRetry={me.reload} />;
  return <Shell user={me.data!} />;
}

function SignIn() {
  return (
    <div className="signin">
      <div className="card">
        <h1>Sign in to Accord</h1>
        <p>
          Open the one-time login link that <code>accord serve</code> printed in its terminal (it
          looks like <code>http://127.0.0.1:8000/login?token=…</code>).
        </p>
        <p className="muted">Lost it? Stop the server and start it again to print a new link.</p>
      </div>
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
