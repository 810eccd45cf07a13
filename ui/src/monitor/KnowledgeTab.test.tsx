import { fireEvent, render, screen, within } from "@testing-library/react";
import { describe, expect, it } from "vitest";
import type { Knowledge } from "../api/types";
import { KnowledgeTab } from "./KnowledgeTab";

const entry = (id: string, title: string, extra: Partial<Knowledge> = {}): Knowledge => ({
  id, workflowId: "w1", title, content: `About **${title}**`, knowledgeType: "decision", createdByAgentId: "ada",
  validatedByAgents: [], relevanceScore: 1, usageCount: 0, tags: [], isActive: true, supersededBy: null,
  createdAt: "", updatedAt: "", subject: "database", executionId: "e1", sourceStepId: "plan", status: "unvalidated", ...extra,
});

describe("KnowledgeTab", () => {
  const entries = [
    entry("k2", "Use Postgres", { validatedByAgents: ["grace", "ada"], usageCount: 3 }),
    entry("k1", "Use SQLite", { isActive: false, supersededBy: "k2" }),
  ];
  const props = { error: undefined, agentNames: { ada: "Ada", grace: "Grace" }, includeInactive: true, onIncludeInactive: () => {} };

  it("shows who validated an entry and what superseded what", () => {
    render(<KnowledgeTab entries={entries} search="" onSearch={() => {}} {...props} />);
    const [current, old] = screen.getAllByTestId("knowledge");
    expect(within(current).getByText("validated by Grace, Ada")).toBeTruthy();
    expect(within(current).getByText("Supersedes “Use SQLite”")).toBeTruthy();
    expect(within(current).getByText("Use Postgres", { selector: ".markdown strong" })).toBeTruthy();
    expect(within(old).getByText("superseded")).toBeTruthy();
    expect(within(old).getByText("Superseded by “Use Postgres”")).toBeTruthy();
    expect(within(old).getByText("not validated yet")).toBeTruthy();
  });

  it("sends the search words, and says when nothing was found", () => {
    const searched: string[] = [];
    const { rerender } = render(<KnowledgeTab entries={entries} search="" onSearch={(q) => searched.push(q)} {...props} />);
    fireEvent.change(screen.getByLabelText("Search knowledge"), { target: { value: " redis cache " } });
    fireEvent.click(screen.getByRole("button", { name: "Search" }));
    expect(searched).toEqual(["redis cache"]);
    rerender(<KnowledgeTab entries={[]} search="redis cache" onSearch={() => {}} {...props} />);
    expect(screen.getByText("Nothing found for “redis cache”")).toBeTruthy();
  });
});
