import { Link } from "react-router-dom";
import { api } from "../api/client";
import type { Agent, Interaction } from "../api/types";
import { useResource } from "../api/useResource";
import { EmptyState, ErrorState, Loading, Page } from "../components/ui";
import { QuestionCard } from "../monitor/QuestionCard";
import { useEventStream } from "../api/events";

export function QuestionsPage({ onAnswered }: { onAnswered: () => void }) {
  const questions = useResource("questions-page", () => api.get<Interaction[]>("/questions?status=pending"));
  const agents = useResource("agents", () => api.get<Agent[]>("/agents"));
  const names = Object.fromEntries((agents.data ?? []).map((a) => [a.id, a.name]));
  useEventStream("/events", (event) => {
    if (event.kind.startsWith("interaction.") && event.data.toUserId) questions.reload();
  });

  return (
    <Page title="Questions" subtitle="Agents sometimes need a decision or a fact only you have.">
      {questions.error ? (
        <ErrorState error={questions.error} onRetry={questions.reload} />
      ) : !questions.data ? (
        <Loading what="questions" />
      ) : questions.data.length === 0 ? (
        <EmptyState title="No questions waiting" action={<Link className="button secondary" to="/workflows">Go to workflows</Link>}>
          When an agent asks you something during a run, it shows up here and in the run's monitor.
        </EmptyState>
      ) : (
        <div className="stack">
          {questions.data.map((q) => (
            <div key={q.id} className="card">
              <QuestionCard
                question={q}
                agentName={names[q.fromAgentId] ?? "An agent"}
                onAnswered={() => {
                  questions.setData((list) => list?.filter((x) => x.id !== q.id));
                  onAnswered();
                }}
              />
              <Link className="small" to={`/executions/${q.workflowExecutionId}`}>Open the run</Link>
            </div>
          ))}
        </div>
      )}
    </Page>
  );
}
