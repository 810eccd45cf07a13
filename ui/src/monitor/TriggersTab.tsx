// What starts this workflow by itself and who hears about its runs: schedules with their next
// times, inbound hooks with their recent deliveries, dependencies, and notifications with
// their delivery log. Secrets are shown once, right after they are made.
import { useState, type FormEvent } from "react";
import { api, ApiError } from "../api/client";
import { useResource } from "../api/useResource";
import { Card, EmptyState, ErrorState, Loading, relativeTime } from "../components/ui";

interface Schedule {
  id: string;
  cron: string | null;
  every: string | null;
  timezone: string;
  paused: boolean;
  catchUp: string;
  overlap: string;
  nextRuns: string[];
}
interface Hook {
  id: string;
  name: string;
  auth: string;
  urlPath: string;
  recentDeliveries: { deliveryId: string; executionId: string | null; receivedAt: string }[];
}
interface Dependency { id: string; upstreamWorkflowName: string; on: string }
interface Notification { id: string; url: string; events: string[] }
interface Delivery {
  id: string;
  event: string;
  status: string;
  attempts: number;
  lastError: string | null;
  responseStatus: number | null;
  createdAt: string;
}
export interface WorkflowTriggers {
  schedules: Schedule[];
  hooks: Hook[];
  dependencies: Dependency[];
  notifications: Notification[];
}

export function TriggersTab({ workflowId }: { workflowId: string }) {
  const triggers = useResource(`triggers-${workflowId}`, () =>
    api.get<WorkflowTriggers>(`/workflows/${workflowId}/triggers`));
  const [secret, setSecret] = useState<string>();
  const [error, setError] = useState<string>();

  const act = async (action: () => Promise<unknown>) => {
    setError(undefined);
    try {
      await action();
      triggers.reload();
    } catch (reason) {
      setError(reason instanceof ApiError ? reason.message : String(reason));
    }
  };

  if (triggers.error) return <ErrorState error={triggers.error} onRetry={triggers.reload} />;
  if (!triggers.data) return <Loading what="triggers" />;
  const { schedules, hooks, dependencies, notifications } = triggers.data;
  return (
    <div className="stack">
      {error && <div className="error-state" role="alert">{error}</div>}
      {secret && (
        <div className="notice" role="status">
          <bdi>{secret}</bdi> <button className="button small secondary" onClick={() => setSecret(undefined)}>Done</button>
        </div>
      )}
      <Card title="Schedules">
        {schedules.length === 0 ? (
          <EmptyState title="No schedules">This workflow starts only by hand, a hook or another workflow.</EmptyState>
        ) : (
          <table className="table" aria-label="Schedules">
            <thead><tr><th>When</th><th>Next runs</th><th>Missed ticks</th><th>While running</th><th /></tr></thead>
            <tbody>
              {schedules.map((s) => (
                <tr key={s.id}>
                  <td>{s.cron ? `cron ${s.cron} (${s.timezone})` : `every ${s.every}`}</td>
                  <td>{s.paused ? "paused" : s.nextRuns.map((t) => new Date(t).toLocaleString()).join(", ")}</td>
                  <td>{s.catchUp}</td>
                  <td>{s.overlap}</td>
                  <td>
                    <button className="button small secondary" onClick={() => act(() => api.post(`/schedules/${s.id}/${s.paused ? "resume" : "pause"}`))}>
                      {s.paused ? "Resume" : "Pause"}
                    </button>{" "}
                    <button className="button small secondary" onClick={() => act(() => api.delete(`/schedules/${s.id}`))}>Remove</button>
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
        )}
        <ScheduleForm onAdd={(body) => act(() => api.post(`/workflows/${workflowId}/schedules`, body))} />
      </Card>
      <Card title="Webhooks">
        {hooks.length === 0 ? (
          <EmptyState title="No webhooks">A webhook starts a run from a signed POST, e.g. a GitHub push.</EmptyState>
        ) : (
          <table className="table" aria-label="Webhooks">
            <thead><tr><th>Name</th><th>URL</th><th>Auth</th><th>Recent deliveries</th><th /></tr></thead>
            <tbody>
              {hooks.map((h) => (
                <tr key={h.id}>
                  <td><bdi>{h.name}</bdi></td>
                  <td><code>{window.location.origin}{h.urlPath}</code></td>
                  <td>{h.auth}</td>
                  <td>
                    {h.recentDeliveries.length === 0 ? "none yet" : h.recentDeliveries.map((d) => (
                      <div key={d.deliveryId}>{relativeTime(d.receivedAt)}: {d.executionId ? `run ${d.executionId.slice(0, 8)}` : "started nothing"}</div>
                    ))}
                  </td>
                  <td><button className="button small secondary" onClick={() => act(() => api.delete(`/hooks/${h.id}`))}>Remove</button></td>
                </tr>
              ))}
            </tbody>
          </table>
        )}
        <NameForm label="New webhook name" button="Add webhook" onAdd={(name) => act(async () => {
          const made = await api.post<{ secret: string; urlPath: string }>(`/workflows/${workflowId}/hooks`, { name });
          setSecret(`Secret for ${window.location.origin}${made.urlPath} (shown once): ${made.secret}`);
        })} />
      </Card>
      <Card title="Runs after">
        {dependencies.length === 0 ? (
          <p className="muted">Runs after no other workflow.</p>
        ) : (
          <ul>
            {dependencies.map((d) => (
              <li key={d.id}>
                after <bdi>{d.upstreamWorkflowName}</bdi> {d.on === "any" ? "ends" : d.on}{" "}
                <button className="button small secondary" onClick={() => act(() => api.delete(`/dependencies/${d.id}`))}>Remove</button>
              </li>
            ))}
          </ul>
        )}
      </Card>
      <Card title="Notifications">
        {notifications.length === 0 ? (
          <p className="muted">Nobody is notified about this workflow's runs.</p>
        ) : (
          notifications.map((n) => <NotificationRow key={n.id} notification={n} onRemove={() => act(() => api.delete(`/notifications/${n.id}`))} />)
        )}
        <NameForm label="Notify URL" button="Add notification" onAdd={(url) => act(async () => {
          const made = await api.post<{ secret: string }>("/notifications", {
            url, workflowId, events: ["execution.completed", "execution.failed"],
          });
          setSecret(`Signing secret for ${url} (shown once): ${made.secret}`);
        })} />
      </Card>
    </div>
  );
}

function NotificationRow({ notification, onRemove }: { notification: Notification; onRemove: () => void }) {
  const deliveries = useResource(`deliveries-${notification.id}`, () =>
    api.get<Delivery[]>(`/notifications/${notification.id}/deliveries`));
  return (
    <div className="stack">
      <div><code>{notification.url}</code> on {notification.events.join(", ")} <button className="button small secondary" onClick={onRemove}>Remove</button></div>
      <table className="table" aria-label={`Deliveries to ${notification.url}`}>
        <thead><tr><th>When</th><th>Event</th><th>Status</th><th>Attempts</th><th>Last error</th><th /></tr></thead>
        <tbody>
          {(deliveries.data ?? []).map((d) => (
            <tr key={d.id}>
              <td>{relativeTime(d.createdAt)}</td>
              <td>{d.event}</td>
              <td>{d.status}{d.responseStatus ? ` (${d.responseStatus})` : ""}</td>
              <td>{d.attempts}</td>
              <td><bdi>{d.lastError ?? ""}</bdi></td>
              <td>
                <button className="button small secondary" onClick={async () => {
                  await api.post(`/notification-deliveries/${d.id}/redeliver`);
                  deliveries.reload();
                }}>Redeliver</button>
              </td>
            </tr>
          ))}
        </tbody>
      </table>
    </div>
  );
}

function ScheduleForm({ onAdd }: { onAdd: (body: Record<string, string>) => void }) {
  const [when, setWhen] = useState("");
  const [timezone, setTimezone] = useState("UTC");
  const submit = (event: FormEvent) => {
    event.preventDefault();
    if (!when.trim()) return;
    const cron = when.trim().split(/\s+/).length > 1;
    onAdd(cron ? { cron: when.trim(), timezone } : { every: when.trim() });
    setWhen("");
  };
  return (
    <form className="inline-form" onSubmit={submit}>
      <label>
        Cron (5 fields) or interval (30s, 5m, 2h, 1d)
        <input value={when} onChange={(e) => setWhen(e.target.value)} placeholder="0 2 * * *" />
      </label>
      <label>
        Time zone
        <input value={timezone} onChange={(e) => setTimezone(e.target.value)} />
      </label>
      <button className="button" type="submit">Add schedule</button>
    </form>
  );
}

function NameForm({ label, button, onAdd }: { label: string; button: string; onAdd: (value: string) => void }) {
  const [value, setValue] = useState("");
  return (
    <form className="inline-form" onSubmit={(e) => { e.preventDefault(); if (value.trim()) { onAdd(value.trim()); setValue(""); } }}>
      <label>{label}<input value={value} onChange={(e) => setValue(e.target.value)} /></label>
      <button className="button" type="submit">{button}</button>
    </form>
  );
}
