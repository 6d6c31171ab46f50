/**
 * Judging one submission (guard -> sandbox run -> compare) and importing a
 * pack (dataset + reference solutions -> expected results), on any Sandbox:
 * the runner pool, or a backend's single runner in tests.
 */
import { OUTPUT_BYTE_LIMIT, type Cell, type Column, type FailVerdict, type RunLimits, type Sandbox } from "../sandbox/types";
import { PackLoadError } from "../sandbox/types";
import { compareResults, type ResultSet } from "./compare";
import { DatasetError, prepareDataset } from "./dataset";
import { DumpSyntaxError } from "./dump";
import { guardQuery } from "./guard";
import { PackError, type LoadedPack, type Problem } from "./pack";

/** A run's failures (the sandbox port's) plus the two outcomes of comparing a result. */
export type Verdict = "accepted" | "wrong_answer" | FailVerdict;

/** The expected result of a problem, stored in the catalog at import. */
export type ExpectedResult = ResultSet;

export interface JudgeProblem {
  schema: string;
  ordered: boolean;
  expected: ExpectedResult;
}

export interface JudgeResult {
  verdict: Verdict;
  /** Why it is not accepted: the wrong-answer reason, the SQL error message, the forbidden construct ... */
  error: string | null;
  sqlstate: string | null;
  position: number | null;
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

export async function judge(sandbox: Pick<Sandbox, "run">, problem: JudgeProblem, sql: string, limits: JudgeLimits): Promise<JudgeResult> {
  const base = { error: null, sqlstate: null, position: null, rows_returned: null, columns: [], rows: [], duration_ms: 0 };
  const guard = await guardQuery(sql);
  if (!guard.ok) {
    return { ...base, verdict: guard.verdict, error: guard.reason, sqlstate: guard.verdict === "sql_error" ? guard.sqlstate : null };
  }
  // A correct answer must never be refused for size: allow at least as many rows as expected.
  const maxRows = Math.max(limits.maxRows, problem.expected.rows.length);
  // Nor for bytes: twice the expected text leaves room for other spellings of the same values.
  const maxBytes = Math.max(limits.maxBytes ?? OUTPUT_BYTE_LIMIT, 2 * textBytes(problem.expected.rows));
  const outcome = await sandbox.run(problem.schema, sql, { timeoutMs: limits.timeoutMs, maxRows, maxBytes });
  if (!outcome.ok) {
    return { ...base, verdict: outcome.verdict, error: outcome.error, sqlstate: outcome.sqlstate ?? null, position: outcome.position ?? null, duration_ms: outcome.duration_ms };
  }
  const cmp = compareResults(problem.expected, outcome, problem.ordered);
  return {
    verdict: cmp.verdict,
    error: cmp.verdict === "accepted" ? null : cmp.reason,
    sqlstate: null,
    position: null,
    rows_returned: outcome.rows.length,
    columns: outcome.columns,
    rows: outcome.rows.slice(0, limits.keepRows ?? 100).map((row) => row.map(displayCell)),
    duration_ms: outcome.duration_ms,
  };
}

/** Runs a problem's reference solution on data already loaded; throws PackError naming the problem. */
export async function computeExpected(sandbox: Pick<Sandbox, "run">, problem: { id: string; schema: string; solution: string }, limits: RunLimits = EXPECTED_LIMITS): Promise<ExpectedResult> {
  await assertSolutionAllowed(problem.id, problem.solution);
  const outcome = await sandbox.run(problem.schema, problem.solution, limits);
  if (!outcome.ok) throw new PackError(`problem ${problem.id}: reference solution failed (${outcome.verdict}): ${outcome.error}`, undefined, problem.id);
  return { columns: outcome.columns, rows: outcome.rows };
}

async function assertSolutionAllowed(id: string, solution: string, packId?: string): Promise<void> {
  const guard = await guardQuery(solution);
  if (!guard.ok) throw new PackError(`problem ${id}: the reference solution is refused (${guard.verdict}): ${guard.reason}`, packId, id);
}

export interface ImportedPack {
  pack: LoadedPack["pack"];
  problems: (Problem & { expected: ExpectedResult })[];
  /** What the dataset loader neutralised (SET, GRANT, OWNER TO ...), for the import log. */
  skipped: { line: number; what: string }[];
  copiedRows: number;
}

/**
 * Loads a pack into the sandbox and computes every expected result, all or
 * nothing: a dataset error or a failing solution throws PackError naming the
 * line or the problem, and the previous version of the pack stays in place.
 */
export async function importPack(sandbox: Pick<Sandbox, "loadPack">, loaded: LoadedPack, limits: RunLimits = EXPECTED_LIMITS): Promise<ImportedPack> {
  const { pack, dataset } = loaded;
  let prepared;
  try {
    prepared = await prepareDataset(dataset, pack.schema);
  } catch (err) {
    if (err instanceof DatasetError || err instanceof DumpSyntaxError) throw new PackError(`pack ${pack.id}: ${pack.dataset} ${err.message}`, pack.id);
    throw err;
  }
  for (const p of pack.problems) await assertSolutionAllowed(p.id, p.solution, pack.id);
  let results;
  try {
    results = await sandbox.loadPack({
      id: pack.id,
      schema: pack.schema,
      steps: prepared.steps,
      checks: pack.problems.map((p) => ({ id: p.id, sql: p.solution })),
      checkLimits: limits,
    });
  } catch (err) {
    if (err instanceof PackLoadError) throw new PackError(`pack ${pack.id}: ${err.message}`, pack.id, err.where.check);
    throw err;
  }
  return {
    pack,
    problems: pack.problems.map((p) => ({ ...p, expected: { columns: results[p.id]!.columns, rows: results[p.id]!.rows } })),
    skipped: prepared.skipped,
    copiedRows: prepared.copiedRows,
  };
}
