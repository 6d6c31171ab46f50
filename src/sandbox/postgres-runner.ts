/**
 * One PostgreSQL runner: a single connection as the sandbox role, one job at
 * a time. Each job is `BEGIN READ ONLY` + LOCAL settings, the submission as
 * ONE statement over the extended protocol (a second statement is refused by
 * the server: "cannot insert multiple commands into a prepared statement"),
 * sent with the prologue in one write and read within the output limits
 * (postgres-fetch.ts: past one, the statement is cancelled and the backend
 * replaced), then ROLLBACK and DISCARD ALL so the
 * next job starts from a fresh session (advisory locks, cursors, settings).
 * The cleanup runs after the outcome is returned; the next job's first query
 * is pipelined behind it, so PostgreSQL ends one session before the next.
 *
 * The wall-clock limit is ours, not statement_timeout (a query can change
 * that with set_config): on expiry the admin connection cancels the backend,
 * waits up to the grace period for the query to stop, then terminates the
 * backend, checks that it is gone from pg_stat_activity and replaces the
 * connection.
 */
import postgres from "postgres";
import { log } from "../lib/log";
import { errorOutcome, fetchStreamed } from "./postgres-fetch";
import { elapsedSince, failure, jobPrologue } from "./session";
import type { RunInJob, RunLimits, RunOutcome, Runner } from "./types";

export interface PostgresRunnerDeps {
  runnerUrl: string;
  /** The runner role (the login of runnerUrl); a hidden test copy is read as its hidden role. */
  role: string;
  /** Admin connection to the sandbox database, used to cancel and terminate. */
  admin: postgres.Sql;
  /** How long a cancelled query may take to stop before its backend is terminated anyway. */
  graceMs: number;
  /** Bound on connecting and starting the transaction; not counted as query time. */
  setupTimeoutMs: number;
}

const TIMEOUT = Symbol("timeout");
const within = <T>(p: Promise<T>, ms: number): Promise<T | typeof TIMEOUT> => {
  let timer: ReturnType<typeof setTimeout> | undefined;
  const expiry = new Promise<typeof TIMEOUT>((resolve) => { timer = setTimeout(resolve, ms, TIMEOUT); });
  return Promise.race([p, expiry]).finally(() => clearTimeout(timer));
};

export class PostgresRunner implements Runner {
  #conn: postgres.Sql | null = null;
  #restarts = 0;
  /** The last cleanup: true once the session is clean, false when its connection had to be replaced (never rejects). */
  #settling: Promise<boolean> = Promise.resolve(true);

  constructor(readonly id: number, private readonly deps: PostgresRunnerDeps) {}

  get restarts(): number {
    return this.#restarts;
  }

  run(schema: string, sql: string, limits: RunLimits): Promise<RunOutcome> {
    return this.job((run) => run(schema, sql, limits));
  }

  /**
   * A job's queries share one transaction and one cleanup. Each query re-sends the whole prologue:
   * inside the open transaction its BEGIN is only a warning and the LOCAL settings are renewed for
   * the next schema; should the connection have been replaced it starts a fresh read-only one.
   */
  async job<T>(work: (run: RunInJob) => Promise<T>): Promise<T> {
    let open: postgres.Sql | null = null;
    try {
      return await work(async (schema, sql, limits) => {
        const { outcome, conn } = await this.#query(schema, sql, limits);
        open = conn;
        return outcome;
      });
    } finally {
      // The ROLLBACK + DISCARD ALL: off this job's critical path; the next query goes out right behind it.
      if (open) this.#settling = this.#finish(open);
    }
  }

  /**
   * One query; `conn` is the connection whose transaction is still open (null once ended or replaced).
   * The last cleanup is not awaited: on the one connection, postgres.js pipelines this query's prologue
   * and statement behind it, and what one event-loop turn sends goes out as one write, so a runner going
   * from job to job pays one round trip per query. Should that cleanup fail, it replaced the connection
   * and this query failed with it: it is sent once more, on the new connection.
   */
  async #query(schema: string, sql: string, limits: RunLimits, retried = false): Promise<{ outcome: RunOutcome; conn: postgres.Sql | null }> {
    const settling = this.#settling;
    const conn = (this.#conn ??= this.#connect());
    const setupStart = performance.now();
    // The prologue and the query go out together (one round trip); the time limit starts once the prologue is done.
    // postgres.js sends a query when it is first awaited: execute() sends the prologue now, before the query.
    const prologue = conn.unsafe(`${jobPrologue(schema, limits, { login: this.deps.role })};\nselect pg_backend_pid() as pid`).execute() as Promise<unknown>;
    // Past an output limit PostgreSQL would send every row: cancel the statement once the pid is known.
    let overflow!: () => void;
    const overflowed = new Promise<void>((resolve) => (overflow = resolve));
    const job = fetchStreamed(conn, sql, limits, setupStart, () => overflow()).catch((err) => errorOutcome(err, setupStart));
    let pid: number;
    let start: number;
    try {
      const res = await within(prologue, this.deps.setupTimeoutMs);
      if (res === TIMEOUT) {
        if (!retried && !(await settling)) return this.#query(schema, sql, limits, true);
        await this.#replace(conn);
        return { outcome: failure("internal_error", "the sandbox database did not answer in time", setupStart), conn: null };
      }
      pid = backendPid(res);
      start = performance.now();
    } catch (err) {
      if (!retried && !(await settling)) return this.#query(schema, sql, limits, true);
      // The query fails with the prologue (aborted transaction, lost connection); should it not, it is not waited for.
      if ((await within(job, this.deps.setupTimeoutMs)) === TIMEOUT) await this.#replace(conn);
      else await this.#finish(conn);
      // The prologue is our SQL: whatever stops it (too many clients 53300, a dropped database ...) is not the submission's doing.
      const sqlstate = err instanceof postgres.PostgresError ? err.code : undefined;
      return { outcome: failure("internal_error", `could not start the job: ${(err as Error)?.message ?? err}`, setupStart, { sqlstate }), conn: null };
    }

    let cancelled: Promise<unknown> | null = null;
    void overflowed.then(() => (cancelled = this.deps.admin`select pg_cancel_backend(${pid})`.catch(() => {})));
    const done = await within(job, limits.timeoutMs);
    if (done !== TIMEOUT && cancelled) {
      // The cancel may land after the statement ended, on whatever this backend runs next: end the backend.
      await cancelled;
      await this.#replace(conn, pid);
      return { outcome: { ...done, duration_ms: elapsedSince(start) }, conn: null };
    }
    if (done !== TIMEOUT) {
      const first = { ...done, duration_ms: elapsedSince(start) };
      if (first.ok) return { outcome: first, conn };
      // An error aborted the transaction (or a limit closed the portal): end it before anything else runs.
      this.#settling = this.#finish(conn);
      return { outcome: first, conn: null };
    }
    // Cancel first (the query stops and its transaction rolls back), then end the backend whatever the
    // cancel did, and make sure it is gone: a timed-out run leaves nothing behind on the server.
    await this.deps.admin`select pg_cancel_backend(${pid})`.catch(() => {});
    await within(job, this.deps.graceMs);
    await this.#replace(conn, pid);
    return { outcome: { ok: false, verdict: "time_limit_exceeded", error: `the query ran longer than ${limits.timeoutMs} ms`, duration_ms: elapsedSince(start) }, conn: null };
  }

  async close(): Promise<void> {
    await this.#settling;
    const conn = this.#conn;
    this.#conn = null;
    await conn?.end({ timeout: 1 }).catch(() => {});
  }

  #connect(): postgres.Sql {
    return postgres(this.deps.runnerUrl, {
      max: 1,
      prepare: false,
      fetch_types: false,
      idle_timeout: 0,
      max_lifetime: null,
      connect_timeout: Math.ceil(this.deps.setupTimeoutMs / 1000),
      onnotice: () => {},
      connection: { application_name: `huddle-sandbox-runner-${this.id}` },
    });
  }

  /** Always ROLLBACK then DISCARD ALL; a connection that cannot do both is replaced (false). */
  async #finish(conn: postgres.Sql): Promise<boolean> {
    try {
      // Two simple queries sent together (one write, one round trip); DISCARD ALL must run outside the transaction block.
      const both = Promise.all([conn.unsafe("rollback"), conn.unsafe("discard all")]);
      if ((await within(both, this.deps.setupTimeoutMs)) === TIMEOUT) throw new Error("rollback and discard timed out");
      return true;
    } catch {
      await this.#replace(conn);
      return false;
    }
  }

  async #replace(conn: postgres.Sql, pid?: number): Promise<void> {
    this.#restarts++;
    if (this.#conn === conn) this.#conn = null;
    if (pid !== undefined) await this.#terminate(pid);
    await conn.end({ timeout: 0 }).catch(() => {});
  }

  /** pg_terminate_backend, then waits (up to the setup timeout) until pg_stat_activity no longer lists the pid. */
  async #terminate(pid: number): Promise<void> {
    const { admin, setupTimeoutMs } = this.deps;
    const until = performance.now() + setupTimeoutMs;
    try {
      await admin`select pg_terminate_backend(${pid})`;
      while (performance.now() < until) {
        const [row] = await admin`select 1 as alive from pg_stat_activity where pid = ${pid}`;
        if (!row) return;
        await Bun.sleep(20);
      }
      log.warn({ pid, runner: this.id }, "a terminated sandbox backend is still listed in pg_stat_activity");
    } catch (err) {
      log.warn({ err, pid, runner: this.id }, "could not terminate a sandbox backend");
    }
  }
}

function backendPid(results: unknown): number {
  // A multi-statement simple query returns one result per statement that produced rows; the pid is the last.
  const list = results as { pid?: number }[][];
  const last = Array.isArray(list.at(-1)) ? list.at(-1)! : (list as unknown as { pid?: number }[]);
  const pid = last[0]?.pid;
  if (typeof pid !== "number") throw new Error("could not read the sandbox backend pid");
  return pid;
}
