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

type DriverError = { code?: unknown; constraint_name?: string; constraint?: string; cause?: unknown };

/** The first driver error along the `cause` chain whose code matches, or null. The one place SQLSTATEs are read. */
function findCode(err: unknown, match: (code: string) => boolean): DriverError | null {
  let e: unknown = err;
  for (let depth = 0; e && typeof e === "object" && depth < 5; depth++) {
    const code = (e as DriverError).code;
    if (typeof code === "string" && match(code)) return e as DriverError;
    e = (e as DriverError).cause;
  }
  return null;
}

/** The SQLSTATE of a PostgreSQL error (through drizzle's wrapping), or null for anything else. */
export function sqlstateOf(err: unknown): string | null {
  const e = findCode(err, (code) => /^[0-9A-Z]{5}$/.test(code));
  return e ? (e.code as string) : null;
}

/** The violated constraint's name for a unique violation (23505), else null. */
export function uniqueViolation(err: unknown): string | null {
  const e = findCode(err, (code) => code === "23505");
  return e ? (e.constraint_name ?? e.constraint ?? "unique") : null;
}

/** A foreign-key violation (23503): the referenced row does not exist. */
export const isForeignKeyViolation = (err: unknown): boolean => findCode(err, (code) => code === "23503") !== null;

/** Data exceptions and integrity violations (classes 22 and 23): this row is the problem, not the database. */
export const isRowRejected = (err: unknown): boolean => findCode(err, (code) => code.startsWith("22") || code.startsWith("23")) !== null;

export function isDatabaseUnavailable(err: unknown): boolean {
  return findCode(err, (code) => NETWORK_CODES.has(code) || code.startsWith("08") || /^57P0[123]$/.test(code)) !== null;
}

export const DATABASE_UNAVAILABLE = "the database is unavailable; try again shortly";
