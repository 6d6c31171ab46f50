/**
 * JSON over fetch with the session's bearer token. A 401 triggers one
 * refresh and one retry; if that fails too, the app returns to sign-in.
 */
import { clearSession, loadSession, refreshSession, type Session } from "./session";

export class ApiError extends Error {
  constructor(readonly status: number, readonly code: string, message: string, readonly details?: unknown) {
    super(message);
  }
}

let signedOut: () => void = () => {};
/** What to do when the session is gone for good (set once by the app). */
export function onSignedOut(fn: () => void) {
  signedOut = fn;
}

function endSession(): never {
  clearSession();
  signedOut();
  throw new ApiError(401, "unauthorized", "Your session has ended. Please sign in again.");
}

/** The access token, refreshed first when it expires within 15 s. */
export async function freshSession(): Promise<Session> {
  const s = loadSession();
  if (!s) endSession();
  if (s.expires_at - Date.now() > 15_000) return s;
  return (await refreshSession(s.access_token)) ?? endSession();
}

async function errorOf(res: Response): Promise<ApiError> {
  let body: { error?: { code?: string; message?: string; details?: unknown } } | undefined;
  try {
    body = await res.json();
  } catch {}
  const e = body?.error;
  return new ApiError(res.status, e?.code ?? `http_${res.status}`, e?.message ?? `Request failed (${res.status})`, e?.details);
}

export async function api<T>(method: string, path: string, body?: unknown, opts: { auth?: boolean } = {}): Promise<T> {
  const auth = opts.auth ?? true;
  const send = (token?: string) => {
    const headers: Record<string, string> = { accept: "application/json" };
    if (body !== undefined) headers["content-type"] = "application/json";
    if (token) headers.authorization = `Bearer ${token}`;
    return fetch(path, { method, headers, body: body === undefined ? undefined : JSON.stringify(body) });
  };
  let res: Response;
  if (!auth) {
    res = await send();
  } else {
    const s = await freshSession();
    res = await send(s.access_token);
    if (res.status === 401) {
      const next = await refreshSession(s.access_token);
      if (!next) endSession();
      res = await send(next.access_token);
      if (res.status === 401) endSession();
    }
  }
  if (!res.ok) throw await errorOf(res);
  if (res.status === 204) return undefined as T;
  return (await res.json()) as T;
}

/** An API error or a socket `error` frame: both carry status, code, message and details. */
type Refusal = { status?: number; code?: string; message?: string; details?: unknown };

/** For a rate limit (429): when trying again makes sense (ms since epoch), from details.retry_after; otherwise null. */
export function retryAt(err: unknown): number | null {
  const e = (err ?? {}) as Refusal;
  if (e.status !== 429 && e.code !== "rate_limited") return null;
  const stated = Number((e.details as { retry_after?: unknown } | undefined)?.retry_after);
  const fromText = Number(/(\d+)\s*s\b/.exec(e.message ?? "")?.[1]);
  const sec = Number.isFinite(stated) && stated > 0 ? stated : Number.isFinite(fromText) && fromText > 0 ? fromText : 5;
  return Date.now() + sec * 1000;
}

export const get = <T>(path: string) => api<T>("GET", path);
export const post = <T>(path: string, body?: unknown) => api<T>("POST", path, body ?? {});

/** Query string from defined values only. */
export function qs(params: Record<string, string | number | undefined | null>): string {
  const u = new URLSearchParams();
  for (const [k, v] of Object.entries(params)) if (v !== undefined && v !== null && v !== "") u.set(k, String(v));
  const s = u.toString();
  return s ? `?${s}` : "";
}
