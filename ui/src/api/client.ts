// A thin fetch wrapper over `/api/v1`. The session cookie set by the login link authenticates,
// so every call is same-origin with credentials; errors become `ApiError` with the server's code.
import type { Problem } from "./types";

export const API_BASE = "/api/v1";

export class ApiError extends Error {
  readonly status: number;
  readonly code: string;
  readonly details: Record<string, unknown>;

  constructor(status: number, code: string, message: string, details: Record<string, unknown>) {
    super(message);
    this.status = status;
    this.code = code;
    this.details = details;
  }

  /** The definition problems of a 422 (`details.problems`), each naming a field and a fix. */
  get problems(): Problem[] {
    const problems = this.details.problems;
    return Array.isArray(problems) ? (problems as Problem[]) : [];
  }
}

async function request<T>(method: string, path: string, body?: unknown): Promise<T> {
  const { payload, response } = await send(method, API_BASE + path, body);
  // A list comes in pages (`Link: <...>; rel="next"`): the views show whole lists, so read them all.
  let next = nextPage(response);
  if (method !== "GET" || !Array.isArray(payload) || next === null) return payload as T;
  const items: unknown[] = [...payload];
  while (next !== null) {
    const page = await send("GET", next);
    items.push(...(Array.isArray(page.payload) ? page.payload : []));
    next = nextPage(page.response);
  }
  return items as T;
}

/** The URL of the next page, from a `Link` header's `rel="next"` (RFC 8288). */
export function nextPage(response: Response): string | null {
  const link = response.headers.get("Link");
  const match = link?.match(/<([^>]+)>\s*;\s*rel="next"/);
  return match ? match[1] : null;
}

async function send(
  method: string,
  url: string,
  body?: unknown,
): Promise<{ payload: unknown; response: Response }> {
  let response: Response;
  try {
    response = await fetch(url, {
      method,
      credentials: "same-origin",
      headers: body === undefined ? {} : { "Content-Type": "application/json" },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
  } catch {
    throw new ApiError(0, "network", "Cannot reach the Accord server. Is `accord serve` running?", {});
  }
  if (response.status === 204) return { payload: undefined, response };
  const text = await response.text();
  const payload: unknown = text ? safeJson(text) : undefined;
  if (!response.ok) {
    const error = (payload as { error?: { code?: string; message?: string; details?: object } })
      ?.error;
    throw new ApiError(
      response.status,
      error?.code ?? `http_${response.status}`,
      error?.message ?? `The server answered ${response.status} ${response.statusText}`,
      (error?.details as Record<string, unknown>) ?? {},
    );
  }
  return { payload, response };
}

function safeJson(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return undefined;
  }
}

export const api = {
  get: <T>(path: string) => request<T>("GET", path),
  post: <T>(path: string, body: unknown = {}) => request<T>("POST", path, body),
  patch: <T>(path: string, body: unknown) => request<T>("PATCH", path, body),
  delete: (path: string) => request<void>("DELETE", path),
};

/** A query string from the given parameters, leaving out empty ones. */
export function query(params: Record<string, string | boolean | null | undefined>): string {
  const search = new URLSearchParams();
  for (const [key, value] of Object.entries(params)) {
    if (value !== undefined && value !== null && value !== "" && value !== false) {
      search.set(key, String(value));
    }
  }
  const text = search.toString();
  return text ? `?${text}` : "";
}
