// What a finished run produced, first: its deliverable rendered from markdown (react-markdown
// renders no raw HTML, so an agent's text cannot inject any), with copy and downloads, and the
// files the team wrote into its workspace.
import { useState } from "react";
import { API_BASE, api } from "../api/client";
import type { Execution, WorkspaceFile } from "../api/types";
import { useResource } from "../api/useResource";
import { EmptyState, MarkdownText } from "../components/ui";
import { FilePreview } from "./FilePreview";
import { fileUrl, size } from "./FilesTab";

/**
 * The deliverable's markdown: the server's (`execution.deliverable`) when it sends one, else the
 * outputs of the final steps the execution recorded (`finalOutput`: step ID -> step result).
 */
export function deliverableMarkdown(execution: Execution, stepName: (id: string) => string): string | null {
  if (execution.deliverable?.markdown) return execution.deliverable.markdown;
  const final = execution.finalOutput;
  if (!final || typeof final !== "object") return null;
  const parts = Object.entries(final as Record<string, unknown>).flatMap(([id, result]) => {
    const text = (result as { output?: unknown } | null)?.output;
    return typeof text === "string" && text.trim() ? [{ id, text }] : [];
  });
  if (parts.length === 0) return null;
  if (parts.length === 1) return parts[0].text;
  return parts.map((p) => `## ${stepName(p.id)}\n\n${p.text}`).join("\n\n");
}

export function DeliverablePanel({ execution, stepName }: { execution: Execution; stepName: (id: string) => string }) {
  const markdown = deliverableMarkdown(execution, stepName);
  const [copied, setCopied] = useState<string>();
  const files = useResource(`files-${execution.id}`, () => api.get<WorkspaceFile[]>(`/executions/${execution.id}/files`));
  const report = (format: string) => `${API_BASE}/executions/${execution.id}/report?format=${format}`;

  const copy = async () => {
    if (!markdown) return;
    try {
      await navigator.clipboard.writeText(markdown);
      setCopied("Copied to the clipboard.");
    } catch {
      setCopied("The browser did not allow copying; select the text instead.");
    }
  };

  if (!markdown) {
    return (
      <EmptyState title={execution.status === "completed" ? "This run produced no deliverable" : `The run ${execution.status === "failed" ? "failed" : "was cancelled"} before its deliverable`}>
        Open a step below to see what each one produced.
      </EmptyState>
    );
  }
  return (
    <div className="deliverable" data-testid="deliverable">
      <div className="actions">
        <button type="button" className="button secondary small" onClick={copy}>Copy markdown</button>
        <a className="button secondary small" href={report("md")} download>Download .md</a>
        <a className="button secondary small" href={report("json")} download>Download .json</a>
        <a className="button secondary small" href={report("zip")} download>Download .zip</a>
        <a className="small" href={report("md")} target="_blank" rel="noreferrer">Full report</a>
        {copied && <span className="muted small" role="status">{copied}</span>}
      </div>
      <article className="deliverable-body" dir="auto">
        <MarkdownText>{markdown}</MarkdownText>
      </article>
      {files.data && files.data.length > 0 && <Files executionId={execution.id} files={files.data} />}
    </div>
  );
}

function Files({ executionId, files }: { executionId: string; files: WorkspaceFile[] }) {
  const [open, setOpen] = useState<string>();
  return (
    <section aria-labelledby="files-title">
      <div className="card-header">
        <h3 id="files-title">Workspace files ({files.length})</h3>
        <a className="button secondary small" href={`${API_BASE}/executions/${executionId}/files.zip`} download>Download all (.zip)</a>
      </div>
      <ul className="plain-list">
        {files.map((f) => (
          <li key={f.path} data-testid="workspace-file">
            <button type="button" className="linklike" aria-expanded={open === f.path}
              onClick={() => setOpen(open === f.path ? undefined : f.path)}><bdi>{f.path}</bdi></button>{" "}
            <span className="muted small">{size(f.size)}{f.agentName ? <> · <bdi>{f.agentName}</bdi></> : ""}</span>{" "}
            <a className="small" href={fileUrl(executionId, f.path)} download aria-label={`Download ${f.path}`}>Download</a>
            {open === f.path && <FilePreview url={fileUrl(executionId, f.path)} path={f.path} />}
          </li>
        ))}
      </ul>
    </section>
  );
}
