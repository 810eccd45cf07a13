import { render, screen, within } from "@testing-library/react";
import { describe, expect, it } from "vitest";
import type { WorkspaceFile } from "../api/types";
import { FilesTab } from "./FilesTab";

const file = (path: string, extra: Partial<WorkspaceFile> = {}): WorkspaceFile => ({
  path, size: 2048, stepId: "write", attempt: 1, agentId: "a1", agentName: "Wren",
  modifiedAt: new Date().toISOString(), ...extra,
});

describe("FilesTab", () => {
  it("links each file and the zip, and says who wrote what", () => {
    render(<FilesTab executionId="e1" error={undefined} files={[
      file("docs/my report.md", { attempt: 2 }),
      file("notes.txt", { size: 12, stepId: null, attempt: null, agentId: null, agentName: null }),
    ]} />);
    const table = screen.getByRole("table", { name: "Workspace files" });
    const [, report, notes] = within(table).getAllByRole("row");
    expect(within(report).getByRole("link", { name: "docs/my report.md" }).getAttribute("href"))
      .toBe("/api/v1/executions/e1/files/docs/my%20report.md");
    expect(within(report).getByText("write (attempt 2)")).toBeTruthy();
    expect(within(report).getByText("Wren")).toBeTruthy();
    expect(within(report).getByText("2.0 KB")).toBeTruthy();
    expect(within(notes).getAllByText("unknown")).toHaveLength(2);
    expect(within(notes).getByText("12 B")).toBeTruthy();
    expect(screen.getByRole("link", { name: "Download all (.zip)" }).getAttribute("href"))
      .toBe("/api/v1/executions/e1/files.zip");
  });

  it("says where files come from while there are none", () => {
    render(<FilesTab executionId="e1" error={undefined} files={[]} />);
    expect(screen.getByText("No files yet")).toBeTruthy();
    expect(screen.queryByRole("link", { name: "Download all (.zip)" })).toBeNull();
  });
});
