// The interactions of an execution, oldest first: questions with their answers, delegations,
// feedback, knowledge shared and votes, filterable by type and by agent.
import { useMemo, useState } from "react";
import { INTERACTION_TYPES, type Interaction, type InteractionType } from "../api/types";
import { EmptyState } from "../components/ui";

export const INTERACTION_LABELS: Record<InteractionType, string> = {
  task_delegation: "Delegation",
  knowledge_sharing: "Knowledge",
  coordination: "Coordination",
  feedback: "Feedback",
  question: "Question",
};

interface TimelineProps {
  interactions: Interaction[];
  agentNames: Record<string, string>;
}

export function Timeline({ interactions, agentNames }: TimelineProps) {
  const [type, setType] = useState<InteractionType | "">("");
  const [agent, setAgent] = useState("");
  const name = (id: string | null) => (id ? (agentNames[id] ?? id.slice(0, 8)) : "");

  const agentsSeen = useMemo(() => {
    const ids = new Set<string>();
    for (const i of interactions) {
      ids.add(i.fromAgentId);
      if (i.toAgentId) ids.add(i.toAgentId);
    }
    return [...ids];
  }, [interactions]);

  const shown = interactions.filter(
    (i) => (!type || i.interactionType === type) && (!agent || i.fromAgentId === agent || i.toAgentId === agent),
  );

  return (
    <div className="timeline">
      <div className="filters">
        <label>
          Type
          <select aria-label="Filter by type" value={type} onChange={(e) => setType(e.target.value as InteractionType | "")}>
            <option value="">All types</option>
            {INTERACTION_TYPES.map((t) => <option key={t} value={t}>{INTERACTION_LABELS[t]}</option>)}
          </select>
        </label>
        <label>
          Agent
          <select aria-label="Filter by agent" value={agent} onChange={(e) => setAgent(e.target.value)}>
            <option value="">All agents</option>
            {agentsSeen.map((id) => <option key={id} value={id}>{name(id)}</option>)}
          </select>
        </label>
        <span className="muted small">{shown.length} of {interactions.length}</span>
      </div>
      {interactions.length === 0 ? (
        <EmptyState title="No interactions yet">
          Delegations, questions, feedback and votes appear here as the agents work.
        </EmptyState>
      ) : shown.length === 0 ? (
        <EmptyState title="Nothing matches these filters">Choose “All types” or “All agents” to see more.</EmptyState>
      ) : (
        <ol className="timeline-list" aria-label="Interactions">
          {shown.map((i) => (
            <li key={i.id} className={`timeline-item type-${i.interactionType}`} data-testid="interaction">
              <div className="timeline-head">
                <span className={`badge type-${i.interactionType}`}>{INTERACTION_LABELS[i.interactionType]}</span>
                <span className="strong">{name(i.fromAgentId)}</span>
                {(i.toAgentId || i.toUserId) && <span className="muted">→ {i.toUserId ? "you" : name(i.toAgentId)}</span>}
                {i.relatedStepId && <span className="muted small">in {i.relatedStepId}</span>}
                <time className="muted small" dateTime={i.createdAt}>{new Date(i.createdAt).toLocaleTimeString()}</time>
              </div>
              <p className="timeline-message">{i.message}</p>
              <VoteLine interaction={i} />
              {i.requiresResponse && <Answer interaction={i} name={name} />}
            </li>
          ))}
        </ol>
      )}
    </div>
  );
}

/** The decision a vote, an outcome or a review verdict carries (its words are in the message). */
function VoteLine({ interaction }: { interaction: Interaction }) {
  const data = interaction.contextData ?? {};
  const parts: string[] = [];
  let label: string | null = null;
  if (typeof data.choice === "string") {
    label = `Vote: ${data.choice}`;
    if (typeof data.round === "number") parts.push(`round ${data.round}`);
    if (typeof data.decision === "string") parts.push(data.decision);
  } else if (typeof data.outcome === "string") {
    label = `Outcome: ${data.outcome}`;
    if (typeof data.decision === "string") parts.push(data.decision);
  } else if (data.review === "approve" || data.review === "request_changes") {
    label = data.review === "approve" ? "Review: approved" : "Review: changes requested";
    if (Array.isArray(data.unmetCriteria) && data.unmetCriteria.length) {
      parts.push(`unmet: ${data.unmetCriteria.join(", ")}`);
    }
  }
  if (!label) return null;
  return (
    <div className="vote">
      <span className="strong">{label}</span>
      {parts.length > 0 && <span className="muted"> · {parts.join(" · ")}</span>}
    </div>
  );
}

function Answer({ interaction: i, name }: { interaction: Interaction; name: (id: string | null) => string }) {
  if (i.responseReceived || i.responseStatus === "answered") {
    return (
      <div className="answer">
        <span className="muted small">Answer{i.toAgentId ? ` from ${name(i.toAgentId)}` : ""}:</span> {i.responseMessage}
      </div>
    );
  }
  if (i.responseStatus === "expired") return <div className="answer expired">No answer before the deadline.</div>;
  return <div className="answer pending">Waiting for an answer…</div>;
}
