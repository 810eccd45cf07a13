// The files an execution's team produced in its workspace: who wrote each, a download link
// per file and one for all of them as a zip. New files arrive with `workspace.file_written`.
import type { ApiError } from "../api/client";
import { API_BASE } from "../api/client";
import type { WorkspaceFile } from "../api/types";
import { EmptyState, ErrorState, Loading, relativeTime } from "../components/ui";

interface FilesTabProps {
  executionId: string;
  files: WorkspaceFile[] | undefined;
  error: ApiError | undefined;
  onRetry?: () => void;
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

export function FilesTab({ executionId, files, error, onRetry }: FilesTabProps) {
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
  return (
    <div className="stack">
      <div className="actions">
        <a className="button small" href={`${API_BASE}/executions/${executionId}/files.zip`} download>
          Download all (.zip)
        </a>
        <span className="small muted">{files.length} file{files.length === 1 ? "" : "s"}</span>
      </div>
      <div className="table-wrap">
        <table className="table" aria-label="Workspace files">
          <thead><tr><th>File</th><th>Size</th><th>Step</th><th>Agent</th><th>Modified</th></tr></thead>
          <tbody>
            {files.map((f) => (
              <tr key={f.path}>
                <td className="strong"><a href={fileUrl(executionId, f.path)} download>{f.path}</a></td>
                <td>{size(f.size)}</td>
                <td>{f.stepId ? `${f.stepId}${f.attempt && f.attempt > 1 ? ` (attempt ${f.attempt})` : ""}` : <span className="muted">unknown</span>}</td>
                <td>{f.agentName ?? f.agentId ?? <span className="muted">unknown</span>}</td>
                <td className="small">{relativeTime(f.modifiedAt)}</td>
              </tr>
            ))}
          </tbody>
        </table>
      </div>
    </div>
  );
}
