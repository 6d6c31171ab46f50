/**
 * A child process (`huddle __sandbox-child`, see src/main.ts) holding one
 * PGlite, started from a snapshot file of the pack datasets (or from the
 * initdb'd template for the very first snapshot). Runs jobs, loads packs
 * (builder role) and dumps its data directory to a file. Requests come over
 * IPC and are handled strictly one after another. A process, not a Worker: a
 * terminated Bun Worker busy in WASM kept spinning and holding its memory,
 * while SIGKILL returns everything to the system at once.
 *
 * Why this is a sandbox even though PGlite has a single superuser: SET ROLE is
 * no boundary (a query could RESET it, or set_config('role', ...)), so jobs do
 * switch to a non-superuser role but rely on other things: the instance holds
 * only pack datasets (no application data, its file system is in-memory, there
 * are no other processes to signal), every job is a READ ONLY transaction that
 * is always rolled back, the parser guard refuses anything but one SELECT, and
 * a job that overruns kills this whole process, which is then replaced by a
 * fresh one from the snapshot.
 */
import { rename } from "node:fs/promises";
import { protocol, type PGlite } from "@electric-sql/pglite";
import { openPglite } from "../db/pglite";
import { pgliteTemplate } from "../db/pglite-template-file";
import { ENGINE_ABORTED, type WireError, type WorkerRequest } from "./pglite-client";
import { assertIdent, cappedOutcome, failure, grantReadSql, hiddenRoleOf, jobPrologue, OUTPUT_BYTE_LIMIT, outputSettings, PGLITE_RUNNER_ROLE, pgliteRunnerSetupSql, rowBytes, sqlErrorOutcome, typeName, variantSql } from "./session";
import { PackLoadError, type Cell, type Column, type PackLoad, type PackLoadResult, type RunLimits, type RunOutcome } from "./types";

/** The non-superuser role jobs run as inside PGlite (convenience, not the boundary: see above). */
const RUNNER_ROLE = PGLITE_RUNNER_ROLE;
const HIDDEN_ROLE = hiddenRoleOf(RUNNER_ROLE);

let pg: PGlite | undefined;
let queue: Promise<void> = Promise.resolve();

const send = (reply: unknown) => process.send!(reply);

process.on("message", (msg: WorkerRequest & { id: number }) => {
  queue = queue.then(async () => {
    try {
      send({ id: msg.id, ok: true, value: await handle(msg) });
    } catch (err) {
      const e = err as Error & { where?: WireError["where"]; sqlstate?: string };
      send({ id: msg.id, ok: false, error: { name: e.name ?? "Error", message: e.message ?? String(err), where: e.where, sqlstate: e.sqlstate } });
    }
  });
});
// The server is gone (its end of the IPC channel closed): nothing is left to answer to.
process.on("disconnect", () => process.exit(0));

async function handle(msg: WorkerRequest): Promise<unknown> {
  if (msg.op === "init") return init(msg.snapshotPath, msg.sharedBuffersMb, msg.dataDir);
  if (!pg) throw new Error("the sandbox child was not initialised");
  if (msg.op === "run") return runJob(pg, msg.schema, msg.sql, msg.limits);
  if (msg.op === "load") return loadPack(pg, msg.load);
  // Written beside, then renamed: a runner starting meanwhile never reads half a snapshot.
  await Bun.write(`${msg.path}.part`, await pg.dumpDataDir("none"));
  await rename(`${msg.path}.part`, msg.path);
  return null;
}

async function init(snapshotPath: string | null, sharedBuffersMb: number, dataDir: string): Promise<null> {
  // On disk, in a directory of its own that the server removes once this process is gone: held in
  // PGlite's in-memory file system the cluster's files were some 40 MB of this process's memory.
  pg = await openPglite(dataDir, { loadDataDir: snapshotPath ? Bun.file(snapshotPath) : pgliteTemplate() }, { sharedBuffersMb });
  if (!snapshotPath) {
    // First snapshot: the runner role; no CREATE/TEMP and none of the revoked functions for anyone but the superuser.
    await pg.exec(pgliteRunnerSetupSql(RUNNER_ROLE));
  }
  // Unpacking the snapshot leaves its tar and gzip buffers behind (over 100 MB): give them back now,
  // before the runner's memory limit starts counting.
  Bun.gc(true);
  return null;
}

const { serialize } = protocol;

/** Rows per Execute: the rows a job holds beyond its limits are one batch. */
const BATCH_ROWS = 100;

type ProtocolMessage = { name: string; fields?: unknown[]; code?: string; message?: string; position?: string };

async function exchange(db: PGlite, parts: Uint8Array[]): Promise<ProtocolMessage[]> {
  const message = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  parts.reduce((offset, p) => (message.set(p, offset), offset + p.length), 0);
  const { messages } = await db.execProtocol(message, { throwOnError: false });
  return messages as unknown as ProtocolMessage[];
}

/**
 * One statement through the extended protocol (never two), read from the portal in batches
 * until it ends or is past maxRows or the byte budget (the portal lives until the job's rollback).
 */
async function execCapped(db: PGlite, sql: string, limits: RunLimits, start: number): Promise<RunOutcome> {
  const budget = limits.maxBytes ?? OUTPUT_BYTE_LIMIT;
  const execute = serialize.execute({ rows: Math.min(limits.maxRows + 1, BATCH_ROWS) });
  let parts = [serialize.parse({ text: sql }), serialize.bind({}), serialize.describe({ type: "P" }), execute, serialize.sync()];
  let columns: Column[] = [];
  const rows: Cell[][] = [];
  let bytes = 0;
  let bound = false;
  for (;;) {
    let ended = false;
    let suspended = false;
    for (const m of await exchange(db, parts)) {
      if (m.name === "error") return sqlErrorOutcome(m, start);
      if (m.name === "rowDescription") {
        columns = (m.fields as { name: string; dataTypeID: number }[]).map((f) => ({ name: f.name, type: typeName(f.dataTypeID) }));
      } else if (m.name === "dataRow") {
        rows.push(m.fields as Cell[]);
        bytes += rowBytes(m.fields as Cell[]);
      } else if (m.name === "bindComplete") {
        bound = true;
      } else if (bound && (m.name === "commandComplete" || (m.name === "emptyQuery" && parts.length > 2))) {
        // An aborted engine answers with stale messages (seen: noData, emptyQuery and no bindComplete);
        // emptyQuery can only be real for the first Execute, never for a continued portal.
        ended = true;
      } else if (bound && m.name === "portalSuspended") {
        suspended = true;
      }
    }
    // Neither an error nor the end of the Execute: PGlite swallowed an exception mid-statement (ENGINE_ABORTED).
    if (!ended && !suspended) throw Object.assign(new Error("the query exhausted the sandbox engine's call stack or memory"), { name: ENGINE_ABORTED });
    if (ended || rows.length > limits.maxRows || bytes > budget) break;
    parts = [execute, serialize.sync()];
  }
  return cappedOutcome(columns, rows, limits, start, bytes > budget);
}

async function runJob(db: PGlite, schema: string, sql: string, limits: RunLimits): Promise<RunOutcome> {
  const setupStart = performance.now();
  try {
    await db.exec(jobPrologue(schema, limits, { superuser: RUNNER_ROLE }));
  } catch (err) {
    await db.exec("rollback").catch(() => {});
    // The prologue is our SQL: its failure is not the submission's doing.
    const e = err as { message?: string; code?: string };
    return failure("internal_error", `could not start the job: ${e.message ?? err}`, setupStart, { sqlstate: e.code });
  }
  let aborted = false;
  try {
    return await execCapped(db, sql, limits, performance.now());
  } catch (err) {
    aborted = (err as Error).name === ENGINE_ABORTED;
    throw err;
  } finally {
    // An aborted engine is not touched again: its runner terminates this Worker.
    if (!aborted) {
      await db.exec("rollback");
      await db.exec("discard all");
    }
  }
}

async function loadPack(db: PGlite, load: PackLoad): Promise<PackLoadResult> {
  const schema = assertIdent(load.schema, "schema");
  const results: PackLoadResult = {};
  // Hidden test copies are granted to the hidden role only (session.ts, isHiddenTestSchema).
  const grant = (role: string) => grantReadSql(load.schema, role);
  await db.exec(`begin; drop schema if exists ${schema} cascade; create schema ${schema}; set local search_path = ${schema}`);
  try {
    await runSteps(db, load.steps);
    await db.exec(grant(RUNNER_ROLE));
    await runChecks(db, load, load.checks, results, RUNNER_ROLE);
    await db.exec(variantSql(load.schema, load.schema).dropOld);
    for (const variant of load.variants ?? []) {
      const sql = variantSql(load.schema, variant.schema);
      await db.exec(sql.before);
      await runSteps(db, load.steps);
      await runSteps(db, variant.setup, variant.label);
      await db.exec(grant(HIDDEN_ROLE));
      await runChecks(db, load, variant.checks, results, HIDDEN_ROLE);
      await db.exec(sql.after);
    }
    await db.exec("commit");
    return results;
  } catch (err) {
    // An aborted engine is not touched again (see runJob); the backend drops this builder.
    if ((err as Error).name !== ENGINE_ABORTED) await db.exec("rollback").catch(() => {});
    throw err;
  }
}

async function runSteps(db: PGlite, steps: PackLoad["steps"], file = "dataset"): Promise<void> {
  for (const step of steps) {
    try {
      if (step.kind === "sql") await db.exec(step.sql);
      else await db.query(`copy ${step.target} from '/dev/blob'`, [], { blob: new Blob([step.data]) });
    } catch (err) {
      const e = err as { message: string; code?: string };
      throw new PackLoadError(`${file} line ${step.line}: ${e.message}`, { line: step.line }, e.code);
    }
  }
}

async function runChecks(db: PGlite, load: PackLoad, checks: PackLoad["checks"], results: PackLoadResult, role: string): Promise<void> {
  for (const check of checks) {
    await db.exec(`savepoint pack_check; set local role ${role}; ${outputSettings(load.schema)}`);
    const outcome = await execCapped(db, check.sql, load.checkLimits, performance.now()).catch((err: Error) => {
      // Named after the problem; keeps its ENGINE_ABORTED name, so the backend drops this builder.
      if (err.name === ENGINE_ABORTED) Object.assign(err, { message: `problem ${check.id}: reference solution failed (resource_limit_exceeded): ${err.message}`, where: { check: check.id } });
      throw err;
    });
    await db.exec("rollback to savepoint pack_check");
    if (!outcome.ok) {
      throw new PackLoadError(`problem ${check.id}: reference solution failed (${outcome.verdict}): ${outcome.error}`, { check: check.id }, outcome.sqlstate);
    }
    results[check.id] = outcome;
  }
}
