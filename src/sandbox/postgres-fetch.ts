/**
 * Reading one submitted statement's rows from PostgreSQL within the output
 * limits: at most maxRows + 1 rows (enough to know the cap was passed) and
 * the byte budget, as raw text (the same text PGlite returns).
 *
 * - fetchStreamed (the runners): the statement goes out with its Sync, so a
 *   result costs one round trip, and rows are kept as they arrive. Past a
 *   limit PostgreSQL would go on sending every row, so the caller is told to
 *   cancel the statement (and to replace the connection, as a cancel may land
 *   on whatever that backend runs next).
 * - fetchCapped (the pack checks, inside the load transaction): a portal read
 *   100 rows at a time and closed once past a limit; postgres.js sends the
 *   Sync only after the portal ends, so it costs a second round trip.
 */
import postgres from "postgres";
import { cappedOutcome, failure, OUTPUT_BYTE_LIMIT, sqlErrorOutcome, typeName } from "./session";
import type { Cell, RunLimits, RunOutcome } from "./types";

/** Rows read per round trip by fetchCapped: the memory a fetch holds beyond the budget is one batch. */
const BATCH_ROWS = 100;

type RawRow = (Uint8Array | null)[];

/** postgres.js's `simple` option (not in its types): false forces Parse/Bind/Execute for a query without parameters. */
const EXTENDED = { simple: false } as postgres.UnsafeQueryOptions;

const text = (row: RawRow): Cell[] => row.map((v) => (v === null ? null : Buffer.from(v).toString("utf8")));

/** The statement's columns from its own description (known for zero rows too). */
function columnsOf(query: unknown) {
  const described = (query as { statement?: { columns?: { name: string; type: number }[] } }).statement?.columns ?? [];
  return described.map((c) => ({ name: c.name, type: typeName(c.type) }));
}

/**
 * One statement in one round trip. `onOverflow` is called once, the moment the rows kept pass
 * maxRows or the byte budget; rows after that are read and dropped. A statement that fails after
 * the overflow (the caller's cancel) ends with the capped outcome, as the limit was passed first.
 */
export async function fetchStreamed(conn: postgres.Sql, sql: string, limits: RunLimits, start: number, onOverflow: () => void): Promise<RunOutcome> {
  const budget = limits.maxBytes ?? OUTPUT_BYTE_LIMIT;
  const rows: Cell[][] = [];
  let bytes = 0;
  let over = false;
  // Extended protocol even without parameters (postgres.js would send a parameterless query as a simple
  // Query, where several statements run): the server refuses a second statement in one Parse.
  const query = conn.unsafe(sql, [], EXTENDED).raw();
  try {
    await query.forEach((row: RawRow) => {
      if (over) return;
      for (const v of row) bytes += v?.length ?? 0;
      rows.push(text(row));
      if (rows.length > limits.maxRows || bytes > budget) {
        over = true;
        onOverflow();
      }
    });
  } catch (err) {
    if (!over) throw err;
  }
  return cappedOutcome(columnsOf(query), rows, limits, start, bytes > budget);
}

/**
 * Fetches at most maxRows + 1 rows in batches and stops (closing the portal) once past the row
 * cap or the byte budget; a transaction's handle lacks postgres.js's CLOSE token, so callers in
 * one pass the pool's.
 */
export async function fetchCapped(conn: postgres.Sql | postgres.TransactionSql, sql: string, limits: RunLimits, start: number, close: unknown = (conn as { CLOSE?: unknown }).CLOSE): Promise<RunOutcome> {
  const budget = limits.maxBytes ?? OUTPUT_BYTE_LIMIT;
  const rows: Cell[][] = [];
  let bytes = 0;
  const query = conn.unsafe(sql).raw();
  await query.cursor(Math.min(limits.maxRows + 1, BATCH_ROWS), (batch: RawRow[]) => {
    for (const row of batch) {
      if (rows.length > limits.maxRows) break;
      for (const v of row) bytes += v?.length ?? 0;
      rows.push(text(row));
    }
    return rows.length > limits.maxRows || bytes > budget ? close : undefined;
  });
  return cappedOutcome(columnsOf(query), rows, limits, start, bytes > budget);
}

/** Server errors become sql_error or a limit verdict (sqlErrorOutcome); client-side failures (connection lost ...) are internal. */
export function errorOutcome(err: unknown, start: number): RunOutcome {
  if (err instanceof postgres.PostgresError) return sqlErrorOutcome(err, start);
  return failure("internal_error", `sandbox connection failed: ${(err as Error)?.message ?? err}`, start);
}
