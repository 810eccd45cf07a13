// The team's knowledge for a workflow: ranked search, who validated what, and which entry
// superseded which. New and updated entries arrive live through the monitor's event stream.
import { useState } from "react";
import type { Knowledge } from "../api/types";
import { EmptyState, ErrorState, Loading, MarkdownText } from "../components/ui";
import type { ApiError } from "../api/client";

interface KnowledgeTabProps {
  entries: Knowledge[] | undefined;
  error: ApiError | undefined;
  agentNames: Record<string, string>;
  search: string;
  onSearch: (q: string) => void;
  includeInactive: boolean;
  onIncludeInactive: (v: boolean) => void;
}

export function KnowledgeTab({ entries, error, agentNames, search, onSearch, includeInactive, onIncludeInactive }: KnowledgeTabProps) {
  const [text, setText] = useState(search);
  const name = (id: string) => agentNames[id] ?? id.slice(0, 8);
  const byId = Object.fromEntries((entries ?? []).map((k) => [k.id, k]));
  const supersedes = (id: string) => (entries ?? []).filter((k) => k.supersededBy === id);

  return (
    <div className="stack">
      <form className="filters" role="search" onSubmit={(e) => { e.preventDefault(); onSearch(text.trim()); }}>
        <input aria-label="Search knowledge" placeholder="Search the team's knowledge" value={text}
          onChange={(e) => setText(e.target.value)} />
        <button className="button small">Search</button>
        {search && <button type="button" className="button small secondary" onClick={() => { setText(""); onSearch(""); }}>Clear</button>}
        <label className="check">
          <input type="checkbox" checked={includeInactive} onChange={(e) => onIncludeInactive(e.target.checked)} />
          Show superseded
        </label>
      </form>
      {error ? (
        <ErrorState error={error} />
      ) : !entries ? (
        <Loading what="knowledge" />
      ) : entries.length === 0 ? (
        <EmptyState title={search ? `Nothing found for “${search}”` : "No knowledge yet"}>
          {search ? "Try other words, or clear the search." : "Insights, decisions and constraints the agents share appear here."}
        </EmptyState>
      ) : (
        <ul className="knowledge-list" aria-label="Knowledge">
          {entries.map((k) => (
            <li key={k.id} className={`knowledge${k.isActive ? "" : " inactive"}`} data-testid="knowledge">
              <div className="knowledge-head">
                <span className={`badge kt-${k.knowledgeType}`}>{k.knowledgeType.replace("_", " ")}</span>
                <span className="strong">{k.title}</span>
                {!k.isActive && <span className="badge">superseded</span>}
                {k.status === "rejected" && <span className="badge">from rejected work</span>}
              </div>
              <MarkdownText>{k.content}</MarkdownText>
              <div className="knowledge-meta small muted">
                <span>by {name(k.createdByAgentId)}{k.sourceStepId ? ` in ${k.sourceStepId}` : ""}</span>
                <span>
                  {k.validatedByAgents.length
                    ? `validated by ${k.validatedByAgents.map(name).join(", ")}`
                    : k.status === "rejected" ? "its step was sent back by a review" : "not validated yet"}
                </span>
                <span>used {k.usageCount}×</span>
                <span>relevance {k.relevanceScore.toFixed(2)}</span>
                {k.tags.length > 0 && <span>{k.tags.map((t) => `#${t}`).join(" ")}</span>}
              </div>
              {k.supersededBy && (
                <div className="small">Superseded by “{byId[k.supersededBy]?.title ?? k.supersededBy}”</div>
              )}
              {supersedes(k.id).map((old) => (
                <div key={old.id} className="small muted">Supersedes “{old.title}”</div>
              ))}
            </li>
          ))}
        </ul>
      )}
    </div>
  );
}
