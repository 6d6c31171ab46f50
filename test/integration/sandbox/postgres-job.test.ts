/**
 * A job of several queries on the PostgreSQL sandbox (Sandbox.job): the judge
 * runs a submission on its main dataset and then on each hidden test as one
 * job, in one sandbox transaction. Each query must still get its own schema
 * and limits, a failed query must not poison the next, and a job must never
 * see the transaction of the job before it.
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import postgres from "postgres";
import { PostgresSandboxBackend } from "../../../src/sandbox/postgres-sandbox";
import { dropPostgresSandbox } from "../../../src/sandbox/postgres-setup";
import { RunnerPool } from "../../../src/sandbox/pool";
import type { RunOutcome } from "../../../src/sandbox/types";
import { DATABASE_URL, postgresAvailable } from "../../helpers/services";

const ok = await postgresAvailable();
const suffix = Bun.randomUUIDv7().replaceAll("-", "").slice(-10);
const config = { adminUrl: DATABASE_URL, database: `huddle_sandbox_${suffix}`, role: `huddle_sandbox_runner_${suffix}` };
const LIMITS = { timeoutMs: 2000, maxRows: 100 };
// now() is the transaction's start: equal within one transaction, different across two.
const PROBE = "select current_setting('search_path') as path, current_setting('statement_timeout') as timeout, now()::text as tx_start, pg_backend_pid()::text as pid";

type Probe = { path: string; timeout: string; txStart: string; pid: string };
function probe(o: RunOutcome): Probe {
  if (!o.ok) throw new Error(`${o.verdict}: ${o.error}`);
  const [path, timeout, txStart, pid] = o.rows[0]! as string[];
  return { path: path!, timeout: timeout!, txStart: txStart!, pid: pid! };
}

describe.skipIf(!ok)("postgres sandbox: a job of several queries", () => {
  let pool: RunnerPool;
  beforeAll(async () => {
    pool = new RunnerPool(await PostgresSandboxBackend.open({ ...config, graceMs: 300 }), { size: 1, queueTimeoutMs: 2000 });
  });
  afterAll(async () => {
    await pool?.close();
    await dropPostgresSandbox(config);
  });

  test("each query gets its own schema and time limit, inside one transaction", async () => {
    const [main, hidden] = await pool.job(async (run) => [
      probe(await run("main_data", PROBE, LIMITS)),
      probe(await run("main_data__ties", PROBE, { ...LIMITS, timeoutMs: 1500 })),
    ]);
    expect(main.path).toBe("main_data");
    expect(hidden.path).toBe("main_data__ties");
    expect([main.timeout, hidden.timeout]).toEqual(["2s", "1500ms"]);
    expect(hidden.txStart).toBe(main.txStart);
    expect(hidden.pid).toBe(main.pid);
  });

  test("two jobs, or two plain runs, never share a transaction", async () => {
    const first = probe(await pool.run("a", PROBE, LIMITS));
    const second = probe(await pool.run("b", PROBE, LIMITS));
    expect(second.pid).toBe(first.pid); // the same runner connection ...
    expect(second.txStart).not.toBe(first.txStart); // ... in a new transaction
    const inJob = await pool.job(async (run) => probe(await run("c", PROBE, LIMITS)));
    expect(inJob.txStart).not.toBe(second.txStart);
  });

  test("after a failed query the job goes on in a fresh transaction", async () => {
    const [failed, next] = await pool.job(async (run) => [await run("a", "select 1/0", LIMITS), await run("b", PROBE, LIMITS)]);
    expect(failed).toMatchObject({ ok: false, verdict: "sql_error", sqlstate: "22012" });
    expect(probe(next).path).toBe("b");
  });

  test("a query over its time limit is stopped; the job's next query runs in a fresh transaction (on a new connection when the runner ended the backend)", async () => {
    const slow = "select count(*) from generate_series(1, 100000000000)";
    const restarts = pool.stats().restarts[0]!;
    const [before, timedOut, after] = await pool.job(async (run) => [
      probe(await run("a", PROBE, LIMITS)),
      await run("a", slow, { ...LIMITS, timeoutMs: 300 }),
      probe(await run("b", PROBE, LIMITS)),
    ]);
    expect(timedOut).toMatchObject({ ok: false, verdict: "time_limit_exceeded" });
    expect(after.path).toBe("b");
    expect(after.txStart).not.toBe(before.txStart);
    // Two limits of the same length race: the runner's own (cancel, end the backend, a new connection) and the
    // prologue's statement_timeout (PostgreSQL cancels; the transaction rolls back and the connection stays).
    // On a loaded machine the runner's timer can fire late, so either may win (CI saw the second once).
    const replaced = pool.stats().restarts[0]! - restarts;
    expect([0, 1]).toContain(replaced);
    if (replaced === 1) expect(after.pid).not.toBe(before.pid);
    else expect(after.pid).toBe(before.pid);
  });

  test("a result far past the row cap is cut off at once: the statement is cancelled, the backend replaced, the next query unharmed", async () => {
    const restarts = pool.stats().restarts[0]!;
    const before = probe(await pool.run("a", PROBE, LIMITS));
    const started = performance.now();
    // Without the cancel PostgreSQL would stream rows until the time limit (a time_limit_exceeded after 2 s).
    // In the select list the series streams (in FROM it would be stored first, hitting temp_file_limit).
    const endless = await pool.run("a", "select generate_series(1, 100000000000)", LIMITS);
    expect(endless).toMatchObject({ ok: false, verdict: "output_limit_exceeded", error: "the query returned more than 100 rows" });
    expect(performance.now() - started).toBeLessThan(LIMITS.timeoutMs);
    expect(pool.stats().restarts[0]! - restarts).toBe(1);
    // A cancel that lands late must not reach what runs next: it is a new backend, and it answers.
    const [after, again] = await pool.job(async (run) => [probe(await run("b", PROBE, LIMITS)), probe(await run("c", PROBE, LIMITS))]);
    expect(after.pid).not.toBe(before.pid);
    expect([after.path, again.path]).toEqual(["b", "c"]);
    // A result just past the cap takes the same path: the verdict, never the cancel's own error.
    expect(await pool.run("a", "select generate_series(1, 101)", LIMITS)).toMatchObject({ ok: false, verdict: "output_limit_exceeded" });
    expect(probe(await pool.run("b", PROBE, LIMITS)).path).toBe("b");
  });

  test("back-to-back jobs: each starts clean behind the last one's cleanup, also after its backend was ended in between", async () => {
    const first = await pool.job(async (run) => {
      const p = probe(await run("a", PROBE, LIMITS));
      // What an operator's pg_terminate_backend or a PostgreSQL restart does to an idle runner.
      const admin = postgres(DATABASE_URL, { max: 1, onnotice: () => {} });
      try {
        await admin`select pg_terminate_backend(${Number(p.pid)})`;
        for (let i = 0; i < 100 && (await admin`select 1 from pg_stat_activity where pid = ${Number(p.pid)}`).length; i++) await Bun.sleep(20);
      } finally {
        await admin.end();
      }
      return p;
    });
    const [second, third] = [probe(await pool.run("b", PROBE, LIMITS)), probe(await pool.run("c", PROBE, LIMITS))];
    expect(second.pid).not.toBe(first.pid);
    expect([second.path, third.path]).toEqual(["b", "c"]);
    expect(third.txStart).not.toBe(second.txStart);
    expect(third.timeout).toBe("2s");
  });

  test("a job whose work throws still releases the runner and ends its transaction", async () => {
    let seen: Probe | undefined;
    const failing = pool.job(async (run) => {
      seen = probe(await run("a", PROBE, LIMITS));
      throw new Error("the judge failed");
    });
    await expect(failing).rejects.toThrow("the judge failed");
    const next = probe(await pool.run("b", PROBE, LIMITS));
    expect(next.txStart).not.toBe(seen!.txStart);
    expect(pool.stats().busy).toBe(0);
  });
});
