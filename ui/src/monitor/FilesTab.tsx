// The files an execution's team produced in its workspace, as a browser: filter by name, who
// wrote each (the step, by name, opens in the inspector), a preview of the chosen file beside
// the list, a download link per file and one for all of them as a zip. New files arrive with
// `workspace.file_written`.
import { useMemo, useState } from "react";
import type { ApiError } from "../api/client";
import { API_BASE } from "../api/client";
import type { WorkspaceFile } from "../api/types";
import { EmptyState, ErrorState, Loading, relativeTime } from "../components/ui";
import { FilePreview } from "./FilePreview";

interface FilesTabProps {
  executionId: string;
  files: WorkspaceFile[] | undefined;
  error: ApiError | undefined;
  onRetry?: () => void;
  stepName?: (id: string) => string;
  onSelectStep?: (stepId: string) => void;
}

/** The raw file's URL: each path segment encoded, the slashes kept. */
export function fileUrl(executionId: string, path: string): string {
  return `${API_BASE}/executions/${executionId}/files/${path.split("/").map(encodeURIComponent).join("/")}`;
}

export function size(bytes: number): string {
  if (bytes < 1024) return `${bytes} B`;
  if (bytes < 1024 * 1024) return `${(bytes / 1024).toFixed(1)} KB`;
  return `${(bytes / 1024 / 1024).toFixed(1)} MB`;
}

/** The files by folder (the top folder first), each folder's files by name. */
export function byFolder(files: WorkspaceFile[]): [string, WorkspaceFile[]][] {
  const folders = new Map<string, WorkspaceFile[]>();
  for (const f of files) {
    const cut = f.path.lastIndexOf("/");
    const folder = cut < 0 ? "" : f.path.slice(0, cut);
    folders.set(folder, [...(folders.get(folder) ?? []), f]);
  }
  return [...folders].sort(([a], [b]) => (a === "" ? -1 : b === "" ? 1 : a.localeCompare(b)));
}

export function FilesTab({ executionId, files, error, onRetry, stepName = (id) => id, onSelectStep }: FilesTabProps) {
  const [filter, setFilter] = useState("");
  const [open, setOpen] = useState<string>();
  const shown = useMemo(() => {
    const wanted = filter.trim().toLowerCase();
    return (files ?? []).filter((f) => !wanted || f.path.toLowerCase().includes(wanted));
  }, [files, filter]);
  if (error) return <ErrorState error={error} onRetry={onRetry} />;
  if (!files) return <Loading what="files" />;
  if (files.length === 0) {
    return (
      <EmptyState title="No files yet">
        What the agents write to the execution's workspace (with the <code>workspace</code> toolkit or a
        filesystem MCP server) appears here.
      </EmptyState>
    );
  }
  const opened = open ? files.find((f) => f.path === open) : undefined;
  return (
    <div className="stack">
      <div className="actions">
        <a className="button small" href={`${API_BASE}/executions/${executionId}/files.zip`} download>
          Download all (.zip)
        </a>
        <span className="small muted">{files.length} file{files.length === 1 ? "" : "s"}</span>
        {files.length > 5 && (
          <input className="files-filter" type="search" aria-label="Filter files by name" placeholder="Filter files by name"
            value={filter} onChange={(e) => setFilter(e.target.value)} />
        )}
      </div>
      <div className={`files-browser${opened ? " with-preview" : ""}`}>
        <div className="table-wrap">
          <table className="table" aria-label="Workspace files">
            <thead><tr><th>File</th><th>Size</th><th>Step</th><th>Agent</th><th>Modified</th><th><span className="sr-only">Actions</span></th></tr></thead>
            <tbody>
              {byFolder(shown).map(([folder, inFolder]) => [
                folder && (
                  <tr key={`folder:${folder}`} className="folder-row"><th colSpan={6} scope="rowgroup"><bdi>{folder}/</bdi></th></tr>
                ),
                ...inFolder.map((f) => (
                  <tr key={f.path} className={f.path === open ? "selected" : ""}>
                    <td className="strong">
                      <button type="button" className="linklike" aria-pressed={f.path === open}
                        onClick={() => setOpen(f.path === open ? undefined : f.path)}>
                        <bdi>{folder ? f.path.slice(folder.length + 1) : f.path}</bdi>
                      </button>
                    </td>
                    <td className="nowrap">{size(f.size)}</td>
                    <td>
                      {f.stepId ? (
                        <>
                          {onSelectStep
                            ? <button type="button" className="linklike" onClick={() => onSelectStep(f.stepId!)}><bdi>{stepName(f.stepId)}</bdi></button>
                            : <bdi>{stepName(f.stepId)}</bdi>}
                          {f.attempt && f.attempt > 1 ? ` (attempt ${f.attempt})` : ""}
                        </>
                      ) : <span className="muted">unknown</span>}
                    </td>
                    <td><bdi>{f.agentName ?? f.agentId ?? <span className="muted">unknown</span>}</bdi></td>
                    <td className="small">{relativeTime(f.modifiedAt)}</td>
                    <td><a className="small" href={fileUrl(executionId, f.path)} download aria-label={`Download ${f.path}`}>Download</a></td>
                  </tr>
                )),
              ])}
              {shown.length === 0 && <tr><td colSpan={6} className="muted">No file name contains “{filter}”.</td></tr>}
            </tbody>
          </table>
        </div>
        {opened && (
          <section className="file-pane" aria-label={`Preview of ${opened.path}`}>
            <div className="card-header">
              <h3 dir="auto"><bdi>{opened.path}</bdi></h3>
              <button type="button" className="button secondary small" onClick={() => setOpen(undefined)}>Close preview</button>
            </div>
            <FilePreview url={fileUrl(executionId, opened.path)} path={opened.path} />
          </section>
        )}
      </div>
    </div>
  );
}
