/**
 * Judging one submission (guard -> sandbox run -> compare, on the main
 * dataset and then on each hidden test copy), on any Sandbox: the runner
 * pool, or a backend's single runner in tests. Importing a pack is
 * import-pack.ts (re-exported here).
 */
import { OUTPUT_BYTE_LIMIT, type Cell, type Column, type FailVerdict, type RunInJob, type RunJob, type RunLimits, type RunOutcome, type Sandbox } from "../sandbox/types";
import { compareResults, type ResultSet } from "./compare";
import { guardQuery } from "./guard";
import { namedVariantSchema, retargetSchema, type HiddenTest } from "./hidden-tests";
import { PackError } from "./pack";

/** A run's failures (the sandbox port's) plus the two outcomes of comparing a result. */
export type Verdict = "accepted" | "wrong_answer" | FailVerdict;

/** The expected result of a problem, stored in the catalog at import. */
export type ExpectedResult = ResultSet;

export interface JudgeProblem {
  schema: string;
  ordered: boolean;
  expected: ExpectedResult;
  /** Hidden test datasets, judged after the main dataset, in order. */
  tests?: HiddenTest<ExpectedResult>[];
}

export interface JudgeResult {
  verdict: Verdict;
  /** Why it is not accepted: the wrong-answer reason, the SQL error message, the forbidden construct ... */
  error: string | null;
  sqlstate: string | null;
  /** 1-based character position of the error in the query (guard's parser or PostgreSQL's). */
  position: number | null;
  /** PostgreSQL's hint for a runtime error, if it gave one. */
  hint: string | null;
  /** Rows the submission returned (null when it did not run to completion). */
  rows_returned: number | null;
  columns: Column[];
  /** The first `limits.keepRows` rows (default 100), for the result page; each cell cut by displayCell. */
  rows: Cell[][];
  duration_ms: number;
}

export interface JudgeLimits extends RunLimits {
  /** Rows kept in the result for display. Default 100. */
  keepRows?: number;
}

function textBytes(rows: Cell[][]): number {
  let n = 0;
  for (const row of rows) for (const cell of row) if (cell !== null) n += Buffer.byteLength(cell, "utf8");
  return n;
}

/** A cell kept for display (stored with the submission, published) is cut to this many characters. */
export const DISPLAY_CELL_CHARS = 1000;

/** Cuts a long cell for display: the first DISPLAY_CELL_CHARS characters and a marker with the full length. */
export function displayCell(cell: Cell): Cell {
  if (cell === null || cell.length <= DISPLAY_CELL_CHARS) return cell;
  return `${cell.slice(0, DISPLAY_CELL_CHARS)}… [truncated: ${cell.length} characters]`;
}

/** Limits for reference solutions at import: generous, they are trusted and run once. */
export const EXPECTED_LIMITS: RunLimits = { timeoutMs: 10_000, maxRows: 10_000 };

/**
 * The main dataset and the hidden tests are one job on one runner (Sandbox.job): a PostgreSQL
 * runner runs them in one sandbox transaction, so a submission pays one start and one cleanup.
 */
export async function judge(sandbox: Pick<Sandbox, "run" | "job">, problem: JudgeProblem, sql: string, limits: JudgeLimits): Promise<JudgeResult> {
  const refused = await refuse(sql);
  if (refused) return refused;
  const job: RunJob = sandbox.job ? (work) => sandbox.job!(work) : (work) => work((schema, query, l) => sandbox.run(schema, query, l));
  return job((run) => judgeRuns(run, problem, sql, limits));
}

async function judgeRuns(run: RunInJob, problem: JudgeProblem, sql: string, limits: JudgeLimits): Promise<JudgeResult> {
  const outcome = await run(problem.schema, sql, runLimits(limits, problem.expected));
  if (!outcome.ok) return failed(outcome);
  const cmp = compareResults(problem.expected, outcome, problem.ordered);
  const shown = {
    sqlstate: null, position: null, hint: null,
    rows_returned: outcome.rows.length,
    columns: outcome.columns,
    rows: outcome.rows.slice(0, limits.keepRows ?? 100).map((row) => row.map(displayCell)),
  };
  if (cmp.verdict !== "accepted") return { ...shown, verdict: cmp.verdict, error: cmp.reason, duration_ms: outcome.duration_ms };
  let duration = outcome.duration_ms;
  for (const [i, test] of (problem.tests ?? []).entries()) {
    const hidden = await runHidden(run, problem, test, sql, limits);
    duration += hidden.duration_ms;
    // The main dataset's output stays on show; of the hidden one only which test and how it failed.
    if (hidden.verdict) return { ...shown, verdict: hidden.verdict, error: `failed on: hidden test ${i + 1} (${hidden.why})`, sqlstate: hidden.sqlstate ?? null, duration_ms: duration };
  }
  return { ...shown, verdict: "accepted", error: null, duration_ms: duration };
}

const BASE = { error: null, sqlstate: null, position: null, hint: null, rows_returned: null, columns: [], rows: [], duration_ms: 0 };

/** The guard's refusal (with the parser's position for a syntax error), or a named hidden-test schema; null when the query may run. */
export async function refuse(sql: string): Promise<JudgeResult | null> {
  const guard = await guardQuery(sql);
  if (!guard.ok) {
    return guard.verdict === "sql_error"
      ? { ...BASE, verdict: "sql_error", error: guard.reason, sqlstate: guard.sqlstate, position: guard.position ?? null }
      : { ...BASE, verdict: "forbidden", error: guard.reason };
  }
  const hidden = await namedVariantSchema(sql);
  return hidden ? { ...BASE, verdict: "forbidden", error: `schema ${hidden} holds hidden test data and cannot be queried` } : null;
}

/** A run that did not complete, as a result (SQLSTATE, message, hint and position kept). */
export function failed(outcome: Extract<RunOutcome, { ok: false }>): JudgeResult {
  return { ...BASE, verdict: outcome.verdict, error: outcome.error, sqlstate: outcome.sqlstate ?? null, position: outcome.position ?? null, hint: outcome.hint ?? null, duration_ms: outcome.duration_ms };
}

function runLimits(limits: JudgeLimits, expected: ExpectedResult): RunLimits {
  return {
    timeoutMs: limits.timeoutMs,
    // A correct answer must never be refused for size: allow at least as many rows as expected.
    maxRows: Math.max(limits.maxRows, expected.rows.length),
    // Nor for bytes: twice the expected text leaves room for other spellings of the same values.
    maxBytes: Math.max(limits.maxBytes ?? OUTPUT_BYTE_LIMIT, 2 * textBytes(expected.rows)),
  };
}

const HIDDEN_WHY: Record<string, string> = {
  columns: "wrong number of columns", count: "wrong number of rows", rows: "wrong rows", order: "right rows in the wrong order",
};

/** One hidden test: no verdict when it matched; else the verdict and a reason that shows none of its data. */
async function runHidden(run: RunInJob, problem: JudgeProblem, test: HiddenTest<ExpectedResult>, sql: string, limits: JudgeLimits) {
  const retargeted = (await retargetSchema(sql, problem.schema, test.schema)) ?? sql;
  const outcome = await run(test.schema, retargeted, runLimits(limits, test.expected));
  if (!outcome.ok) {
    const why = outcome.verdict === "sql_error" ? `error ${outcome.sqlstate ?? ""}`.trim() : outcome.verdict.replaceAll("_", " ");
    return { verdict: outcome.verdict, why, sqlstate: outcome.sqlstate, duration_ms: outcome.duration_ms };
  }
  const cmp = compareResults(test.expected, outcome, problem.ordered);
  if (cmp.verdict === "accepted") return { verdict: null, why: "", duration_ms: outcome.duration_ms };
  return { verdict: cmp.verdict, why: HIDDEN_WHY[cmp.kind] ?? "wrong answer", duration_ms: outcome.duration_ms };
}

/** Runs a problem's reference solution on data already loaded; throws PackError naming the problem. */
export async function computeExpected(sandbox: Pick<Sandbox, "run">, problem: { id: string; schema: string; solution: string }, limits: RunLimits = EXPECTED_LIMITS): Promise<ExpectedResult> {
  await assertSolutionAllowed(problem.id, problem.solution);
  const outcome = await sandbox.run(problem.schema, problem.solution, limits);
  if (!outcome.ok) throw new PackError(`problem ${problem.id}: reference solution failed (${outcome.verdict}): ${outcome.error}`, undefined, problem.id);
  return { columns: outcome.columns, rows: outcome.rows };
}

export async function assertSolutionAllowed(id: string, solution: string, packId?: string): Promise<void> {
  const guard = await guardQuery(solution);
  if (!guard.ok) throw new PackError(`problem ${id}: the reference solution is refused (${guard.verdict}): ${guard.reason}`, packId, id);
}

export { importPack, type ImportedPack } from "./import-pack";
