import { fireEvent, render, screen, within } from "@testing-library/react";
import { describe, expect, it } from "vitest";
import type { WorkspaceFile } from "../api/types";
import { FilesTab } from "./FilesTab";

const file = (path: string, extra: Partial<WorkspaceFile> = {}): WorkspaceFile => ({
  path, size: 2048, stepId: "write", attempt: 1, agentId: "a1", agentName: "Wren",
  modifiedAt: new Date().toISOString(), ...extra,
});

describe("FilesTab", () => {
  it("links each file and the zip, and says who wrote what", () => {
    render(<FilesTab executionId="e1" error={undefined} stepName={(id) => (id === "write" ? "Write it up" : id)} files={[
      file("docs/my report.md", { attempt: 2 }),
      file("notes.txt", { size: 12, stepId: null, attempt: null, agentId: null, agentName: null }),
    ]} />);
    const table = screen.getByRole("table", { name: "Workspace files" });
    // The top folder's files first, then each folder under its heading.
    const [, notes, folder, report] = within(table).getAllByRole("row");
    expect(folder.textContent).toBe("docs/");
    expect(within(report).getByRole("button", { name: "my report.md" })).toBeTruthy();
    expect(within(report).getByRole("link", { name: "Download docs/my report.md" }).getAttribute("href"))
      .toBe("/api/v1/executions/e1/files/docs/my%20report.md");
    expect(within(report).getByText("Write it up")).toBeTruthy();
    expect(within(report).getByText(/attempt 2/)).toBeTruthy();
    expect(within(report).getByText("Wren")).toBeTruthy();
    expect(within(report).getByText("2.0 KB")).toBeTruthy();
    expect(within(notes).getAllByText("unknown")).toHaveLength(2);
    expect(within(notes).getByText("12 B")).toBeTruthy();
    expect(screen.getByRole("link", { name: "Download all (.zip)" }).getAttribute("href"))
      .toBe("/api/v1/executions/e1/files.zip");
  });

  it("filters many files by name", () => {
    const many = ["a.md", "b.md", "c.txt", "d.txt", "e.txt", "f.txt"].map((p) => file(p));
    render(<FilesTab executionId="e1" error={undefined} files={many} />);
    fireEvent.change(screen.getByRole("searchbox", { name: "Filter files by name" }), { target: { value: ".MD" } });
    expect(within(screen.getByRole("table", { name: "Workspace files" })).getAllByRole("row")).toHaveLength(3);
  });

  it("says where files come from while there are none", () => {
    render(<FilesTab executionId="e1" error={undefined} files={[]} />);
    expect(screen.getByText("No files yet")).toBeTruthy();
    expect(screen.queryByRole("link", { name: "Download all (.zip)" })).toBeNull();
  });
});
