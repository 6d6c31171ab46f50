/**
 * The PostgreSQL sandbox backend: loads packs as admin into the sandbox
 * database and makes runners that connect as the sandbox role.
 *
 * A pack load is one transaction: drop and recreate the schema, run the
 * dataset (COPY blocks through COPY FROM STDIN), grant USAGE + SELECT to the
 * runner role, run every reference solution under a savepoint, then commit.
 * Any failure rolls back, so the previous version of the pack stays intact.
 */
import { Readable } from "node:stream";
import { pipeline } from "node:stream/promises";
import postgres from "postgres";
import { setupPostgresSandbox, resolveSandboxConfig, type PostgresSandboxConfig, type ResolvedSandboxConfig } from "./postgres-setup";
import { errorOutcome, fetchCapped } from "./postgres-fetch";
import { PostgresRunner } from "./postgres-runner";
import { assertIdent, grantReadSql, hiddenRoleOf, outputSettings, variantSql } from "./session";
import { probeWeaknesses } from "./weaknesses";
import { PackLoadError, type PackLoad, type PackLoadResult, type Runner, type SandboxBackend } from "./types";

export interface PostgresSandboxOptions extends PostgresSandboxConfig {
  /** Create the database and role if missing (needs CREATEDB + CREATEROLE). Default true. */
  setup?: boolean;
  /** After a cancel, how long to wait before terminating the backend. Default 500 ms. */
  graceMs?: number;
  /** Bound on connecting / starting a job's transaction. Default 5000 ms. */
  setupTimeoutMs?: number;
}

export class PostgresSandboxBackend implements SandboxBackend {
  readonly kind = "postgres" as const;
  readonly #admin: postgres.Sql;
  #loading: Promise<unknown> = Promise.resolve();
  #weaknesses: readonly string[] = [];

  private constructor(readonly config: ResolvedSandboxConfig, private readonly opts: PostgresSandboxOptions) {
    this.#admin = postgres(config.sandboxAdminUrl, { max: 3, onnotice: () => {}, connection: { application_name: "huddle-sandbox-admin" } });
  }

  static async open(opts: PostgresSandboxOptions): Promise<PostgresSandboxBackend> {
    const config = opts.setup === false ? resolveSandboxConfig(opts) : await setupPostgresSandbox(opts);
    const backend = new PostgresSandboxBackend(config, opts);
    backend.#weaknesses = await probeWeaknesses(backend.#admin, config.role);
    return backend;
  }

  /** What setup could not apply (no superuser), checked against the server at open. */
  weaknesses(): readonly string[] {
    return this.#weaknesses;
  }

  createRunner(id: number): Runner {
    return new PostgresRunner(id, {
      runnerUrl: this.config.runnerUrl,
      role: this.config.role,
      admin: this.#admin,
      graceMs: this.opts.graceMs ?? 500,
      setupTimeoutMs: this.opts.setupTimeoutMs ?? 5000,
    });
  }

  /** Loads are serialised: two imports of the same pack must not interleave their DROP/CREATE. */
  loadPack(load: PackLoad): Promise<PackLoadResult> {
    const next = this.#loading.then(() => this.#load(load));
    this.#loading = next.catch(() => {});
    return next;
  }

  async #load(load: PackLoad): Promise<PackLoadResult> {
    const schema = assertIdent(load.schema, "schema");
    const results: PackLoadResult = {};
    await this.#admin.begin(async (tx) => {
      await tx.unsafe(`drop schema if exists ${schema} cascade; create schema ${schema}; set local search_path = ${schema}`);
      await runSteps(tx, load.steps);
      await tx.unsafe(grantReadSql(load.schema, this.config.role));
      await runChecks(tx, load, load.checks, results, this.#admin.CLOSE);
      await tx.unsafe(variantSql(load.schema, load.schema).dropOld);
      for (const variant of load.variants ?? []) {
        const sql = variantSql(load.schema, variant.schema);
        await tx.unsafe(sql.before);
        await runSteps(tx, load.steps);
        await runSteps(tx, variant.setup, variant.label);
        // A hidden test copy is readable by the hidden role only (session.ts, isHiddenTestSchema).
        await tx.unsafe(grantReadSql(load.schema, hiddenRoleOf(this.config.role)));
        await runChecks(tx, load, variant.checks, results, this.#admin.CLOSE);
        await tx.unsafe(sql.after);
      }
    });
    return results;
  }

  async close(): Promise<void> {
    await this.#loading.catch(() => {});
    await this.#admin.end({ timeout: 2 });
  }
}

async function runSteps(tx: postgres.TransactionSql, steps: PackLoad["steps"], file = "dataset"): Promise<void> {
  for (const step of steps) {
    try {
      if (step.kind === "sql") {
        await tx.unsafe(step.sql);
      } else {
        const writable = await tx.unsafe(`copy ${step.target} from stdin`).writable();
        await pipeline(Readable.from([step.data]), writable);
      }
    } catch (err) {
      const e = err as { message: string; code?: string };
      throw new PackLoadError(`${file} line ${step.line}: ${e.message}`, { line: step.line }, e.code);
    }
  }
}

/** Each check under a savepoint, as the admin but with the job's output settings; the first failure refuses the load. */
async function runChecks(tx: postgres.TransactionSql, load: PackLoad, checks: PackLoad["checks"], results: PackLoadResult, close: unknown): Promise<void> {
  for (const check of checks) {
    await tx.unsafe(`savepoint pack_check; set local statement_timeout = ${Math.ceil(load.checkLimits.timeoutMs)}; ${outputSettings(load.schema)}`);
    const start = performance.now();
    const outcome = await fetchCapped(tx, check.sql, load.checkLimits, start, close).catch((err) => errorOutcome(err, start));
    await tx.unsafe("rollback to savepoint pack_check");
    if (!outcome.ok) {
      throw new PackLoadError(`problem ${check.id}: reference solution failed (${outcome.verdict}): ${outcome.error}`, { check: check.id }, outcome.sqlstate);
    }
    results[check.id] = outcome;
  }
}
