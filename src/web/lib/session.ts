/**
 * The signed-in session, kept in localStorage so it survives a reload and is
 * shared by the tabs of one browser. Refreshing is serialised across tabs
 * (Web Locks where available): refresh tokens rotate, and a second tab
 * presenting the already-rotated token would revoke the whole family.
 */
import type { SessionReply, User } from "./types";

const KEY = "huddle.session";

export type Session = { user: User; access_token: string; refresh_token: string; expires_at: number };

export function loadSession(): Session | null {
  try {
    const raw = localStorage.getItem(KEY);
    return raw ? (JSON.parse(raw) as Session) : null;
  } catch {
    return null;
  }
}

export function saveSession(reply: SessionReply): Session {
  const s: Session = { user: reply.user, access_token: reply.access_token, refresh_token: reply.refresh_token, expires_at: Date.now() + reply.expires_in * 1000 };
  localStorage.setItem(KEY, JSON.stringify(s));
  return s;
}

export function updateUser(user: User) {
  const s = loadSession();
  if (s) localStorage.setItem(KEY, JSON.stringify({ ...s, user }));
}

export function clearSession() {
  localStorage.removeItem(KEY);
}

/** Calls `fn` when another tab signs in or out. */
export function onSessionChange(fn: (s: Session | null) => void) {
  window.addEventListener("storage", (e: StorageEvent) => {
    if (e.key === KEY) fn(loadSession());
  });
}

async function withLock<T>(fn: () => Promise<T>): Promise<T> {
  const locks = (navigator as Navigator & { locks?: LockManager }).locks;
  return locks ? locks.request("huddle.refresh", fn) : fn();
}

let inflight: Promise<Session | null> | null = null;

/**
 * A fresh session after `staleToken` was refused, or null when the refresh
 * token is no longer valid (the user must sign in again). Network failures
 * throw instead, so being offline never signs anyone out.
 */
export function refreshSession(staleToken: string): Promise<Session | null> {
  inflight ??= withLock(async () => {
    const current = loadSession();
    if (!current) return null;
    // Another tab (or an earlier call) already rotated the pair.
    if (current.access_token !== staleToken) return current;
    const res = await fetch("/auth/refresh", {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ refresh_token: current.refresh_token }),
    });
    if (res.ok) return saveSession((await res.json()) as SessionReply);
    if (res.status === 400 || res.status === 401 || res.status === 403) {
      clearSession();
      return null;
    }
    throw new Error(`refresh failed with ${res.status}`);
  }).finally(() => {
    inflight = null;
  });
  return inflight;
}
