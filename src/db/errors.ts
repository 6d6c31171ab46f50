/**
 * Telling "the database cannot be reached" apart from "this query is wrong".
 * The first is an outage (answer 503 and retry later), the second a bug or a
 * bad request. postgres.js reports lost or refused connections with Node-style
 * or its own codes; the server itself says so with SQLSTATE class 08 or
 * 57P01-57P03 (shutting down, crashed, starting). Drizzle wraps the driver's
 * error in `cause`, so the chain is followed a few levels.
 */
const NETWORK_CODES = new Set([
  "ECONNREFUSED", "ECONNRESET", "EPIPE", "ETIMEDOUT", "EHOSTUNREACH", "ENETUNREACH", "EAI_AGAIN", "ENOTFOUND",
  "CONNECTION_CLOSED", "CONNECTION_ENDED", "CONNECTION_DESTROYED", "CONNECT_TIMEOUT",
]);

export function isDatabaseUnavailable(err: unknown): boolean {
  let e: unknown = err;
  for (let depth = 0; e && typeof e === "object" && depth < 5; depth++) {
    const code = (e as { code?: unknown }).code;
    if (typeof code === "string" && (NETWORK_CODES.has(code) || code.startsWith("08") || /^57P0[123]$/.test(code))) return true;
    e = (e as { cause?: unknown }).cause;
  }
  return false;
}

export const DATABASE_UNAVAILABLE = "the database is unavailable; try again shortly";
