/**
 * The SQL sandbox contract shared by both backends (PostgreSQL, PGlite in a
 * Worker), the runner pool and the judge. No Elysia, Redis or actor-kernel
 * imports here: the lead wraps these in the supervision tree.
 */

/** A result column; `type` is the PostgreSQL type name (int4, numeric, timestamptz ...). */
export interface Column {
  name: string;
  type: string;
}

/** Values travel as PostgreSQL's own text output (NULL as null), identical on both backends. */
export type Cell = string | null;

export type FailVerdict =
  | "sql_error"
  | "time_limit_exceeded"
  | "output_limit_exceeded"
  /**
   * Valid SQL that ran out of a sandbox resource: SQLSTATE class 53 (temp_file_limit, out of
   * memory) or 54 (stack depth, array or string size), or a PGlite engine that aborted mid-query.
   */
  | "resource_limit_exceeded"
  | "forbidden"
  | "internal_error";

export type RunOutcome =
  | { ok: true; columns: Column[]; rows: Cell[][]; truncated: boolean; duration_ms: number }
  | { ok: false; verdict: FailVerdict; error: string; sqlstate?: string; position?: number; hint?: string; duration_ms: number };

/** Default bound on a result's cell text in bytes (UTF-8); RunLimits.maxBytes overrides it. */
export const OUTPUT_BYTE_LIMIT = 4 * 1024 * 1024;

export interface RunLimits {
  /** Wall-clock limit for the statement, enforced by the runner. */
  timeoutMs: number;
  /** More rows than this is `output_limit_exceeded` ... */
  maxRows: number;
  /** ... unless truncate is set: then the first maxRows come back with `truncated: true` (sample rows). */
  truncate?: boolean;
  /**
   * More than this many bytes of cell text (UTF-8, the whole result) is `output_limit_exceeded`,
   * or with truncate the rows that fit. Default OUTPUT_BYTE_LIMIT (4 MiB).
   */
  maxBytes?: number;
}

/** One dataset step, already checked and neutralised (src/judge/dataset.ts). */
export type DatasetStep =
  | { kind: "sql"; sql: string; line: number }
  /**
   * A COPY block: `target` is the quoted table and column list (`"bookings" ("bookid", "facid")`),
   * `data` its rows in COPY text format, newline-terminated. Each backend says where they come from
   * (FROM STDIN for PostgreSQL, FROM '/dev/blob' for PGlite); the server decodes the escapes.
   */
  | { kind: "copy"; target: string; data: string; line: number };

/** What loading a pack needs: where it goes, what to run, and the queries to check before committing. */
export interface PackLoad {
  id: string;
  schema: string;
  steps: DatasetStep[];
  /** Run inside the load transaction; any failure refuses the load and keeps the previous version. */
  checks: { id: string; sql: string }[];
  /** Limits for each check (reference solutions). */
  checkLimits: RunLimits;
  /**
   * Hidden test datasets: each is the same dataset loaded again, then `setup` (checked like the
   * dataset), into its own schema, with its own checks. Loaded in the same transaction, under the
   * pack's schema name (so qualified names in the dataset, setup and solutions land in it), then
   * renamed to `schema`. Previous variants of the pack (`<pack schema>__*`) are dropped first.
   */
  variants?: PackVariant[];
}

/**
 * A hidden test copy's schema: the pack schema (which may not contain "__") + "__t" + a number.
 * Only the runner's hidden role may read such a schema (src/sandbox/session.ts).
 */
export const HIDDEN_TEST_SCHEMA = /^[a-z_][a-z0-9_]*__t[0-9]+$/;

export interface PackVariant {
  /** Where the variant ends up: `<pack schema>__t<n>` (HIDDEN_TEST_SCHEMA). */
  schema: string;
  /** Names the setup in errors, e.g. `test setup tests/ties.sql`. */
  label: string;
  setup: DatasetStep[];
  /** Check ids are unique across the whole load (the pack's and every variant's). */
  checks: { id: string; sql: string }[];
}

/** Results of the checks by id. Throws PackLoadError when the dataset or a check fails. */
export type PackLoadResult = Record<string, Extract<RunOutcome, { ok: true }>>;

export class PackLoadError extends Error {
  constructor(
    message: string,
    /** The check (problem id) or dataset line that failed, for the operator. */
    readonly where: { check?: string; line?: number } = {},
    readonly sqlstate?: string,
  ) {
    super(message);
    this.name = "PackLoadError";
  }
}

/** One query of a job; `run` of a Sandbox or Runner has this shape too. */
export type RunInJob = (schema: string, sql: string, limits: RunLimits) => Promise<RunOutcome>;

/**
 * A job of several queries (a submission on its main dataset, then on each hidden test) on one
 * runner, one after the other. Each query gets its own schema, limits and outcome exactly as
 * `run` would give; a runner that can may run them in one sandbox transaction (one start, one
 * cleanup). A query after a failed one starts afresh.
 */
export type RunJob = <T>(work: (run: RunInJob) => Promise<T>) => Promise<T>;

/** What the judge needs: load packs, run one query (or a job of several), close. The pool implements it. */
export interface Sandbox {
  loadPack(load: PackLoad): Promise<PackLoadResult>;
  run(schema: string, sql: string, limits: RunLimits): Promise<RunOutcome>;
  /** Optional: without it a job's queries are separate runs. */
  job?: RunJob;
  close(): Promise<void>;
}

/**
 * One runner: one job at a time, never throws from run() (failures become an
 * `internal_error` outcome), replaces its own connection or Worker after a
 * timeout or a crash and counts that in `restarts`.
 */
export interface Runner {
  readonly id: number;
  readonly restarts: number;
  run(schema: string, sql: string, limits: RunLimits): Promise<RunOutcome>;
  /** Optional: a runner without it runs a job's queries as separate runs. */
  job?: RunJob;
  close(): Promise<void>;
}

/** A backend owns the shared state (database, snapshot) and makes runners. */
export interface SandboxBackend {
  readonly kind: "postgres" | "pglite";
  loadPack(load: PackLoad): Promise<PackLoadResult>;
  createRunner(id: number): Runner;
  /**
   * Protections the backend could not apply (e.g. revokes and temp_file_limit need a superuser
   * on PostgreSQL), one sentence each; empty when fully locked down. Logged at start-up; meant
   * for /ready.
   */
  weaknesses?(): readonly string[];
  close(): Promise<void>;
}
