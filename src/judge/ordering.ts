/**
 * Is an ordered problem's expected order the only right one? When two rows
 * differ but tie on every ORDER BY key, the database may return them either
 * way: an answer with another (equally valid) order would be refused, and one
 * without a tie-breaker may pass by luck. At import every ordered solution is
 * checked on every dataset (main and hidden tests); a tie is a warning for
 * the pack author (add a tie-breaker, or a test dataset).
 *
 * The sort keys are read from the parse tree. A key naming an output column
 * (by position or name) is read from the result; any other expression is
 * appended to the select list (at the end, so `group by 1` keeps its meaning)
 * and the solution is run once more, as an extra check in the same load.
 *
 * With a LIMIT (ordered or not), which rows come back depends on ties at the
 * cut too: the probe drops the LIMIT/OFFSET and a tie counts when it touches
 * the rows the solution keeps (ordered) or straddles the cut (unordered).
 */
import type { Cell } from "../sandbox/types";
import { parserReady, parseStatements, walk, type AstNode } from "./pg-ast";

export interface OrderProbe {
  /** Output columns that are sort keys, by index. */
  keyColumns: number[];
  /** The solution with the other sort keys appended as extra output columns (and no LIMIT); null when not needed. */
  augmented: string | null;
  /** The rows the solution keeps of the full sorted result, when it has a LIMIT or OFFSET. */
  window?: { offset: number; count: number | null };
  /** Set when the order cannot be checked; says why. */
  unchecked?: string;
}

/** `limit 5` -> 5; `limit all` or none -> null; undefined when not a constant. */
function constant(node: unknown): number | null | undefined {
  if (!node) return null;
  const c = (node as { A_Const?: { ival?: { ival?: number }; isnull?: boolean } }).A_Const;
  if (!c) return undefined;
  if (c.isnull) return null;
  return c.ival ? c.ival.ival ?? 0 : undefined;
}

/** How the check is set up for one solution. */
export async function orderProbe(solution: string): Promise<OrderProbe> {
  await parserReady();
  const [stmt] = parseStatements(solution);
  const node = stmt?.node;
  const sorts = ((node?.sortClause as { SortBy: AstNode }[] | undefined) ?? []).map((s) => s.SortBy);
  const limited = Boolean(node?.limitCount || node?.limitOffset);
  if (!node || sorts.length === 0) {
    return { keyColumns: [], augmented: null, unchecked: limited ? "it has a LIMIT but no ORDER BY, so which rows come back is not defined" : "the solution has no ORDER BY, so no order is the expected one" };
  }
  let window: OrderProbe["window"];
  if (limited) {
    const count = constant(node.limitCount);
    const offset = constant(node.limitOffset);
    if (count === undefined || offset === undefined) return { keyColumns: [], augmented: null, unchecked: "its LIMIT or OFFSET is not a constant" };
    window = { offset: offset ?? 0, count };
  }
  const keyColumns: number[] = [];
  const expressions: AstNode[] = [];
  const targets = ((node.targetList as { ResTarget?: AstNode }[] | undefined) ?? []).map((t) => t.ResTarget ?? {});
  for (const sort of sorts) {
    const expr = sort.node as AstNode;
    const index = outputIndex(expr, targets);
    if (index === "unknown") return { keyColumns: [], augmented: null, unchecked: "it sorts by position after a `*` in the select list" };
    if (index !== null) keyColumns.push(index);
    else expressions.push(expr);
  }
  if (expressions.length === 0 && !window) return { keyColumns, augmented: null };
  const augmented = appendTargets(solution, node, sorts, expressions, Boolean(window));
  if (!augmented) return { keyColumns, augmented: null, unchecked: "its ORDER BY expressions could not be added to the select list" };
  return window ? { keyColumns, augmented, window } : { keyColumns, augmented };
}

/**
 * `order by 2` or `order by total` (an alias in the select list): the output column's index;
 * "unknown" when a `*` before it hides the index; null for anything else (appended as an expression).
 */
function outputIndex(expr: AstNode, targets: AstNode[]): number | "unknown" | null {
  const starAt = targets.findIndex((t) => JSON.stringify(t.val ?? null).includes('"A_Star"'));
  const ival = (expr.A_Const as { ival?: { ival?: number } } | undefined)?.ival?.ival;
  if (typeof ival === "number") return starAt >= 0 && starAt < ival ? "unknown" : ival - 1;
  const fields = (expr.ColumnRef as { fields?: { String?: { sval?: string } }[] } | undefined)?.fields;
  if (fields?.length !== 1) return null;
  const alias = targets.findIndex((t) => t.name === fields[0]!.String?.sval);
  if (alias < 0) return null;
  return starAt >= 0 && starAt < alias ? "unknown" : alias;
}

/** The smallest parser location inside a subtree: where its text starts (an operator's location is its own). */
function startOf(tree: unknown): number {
  let min = Infinity;
  walk(tree, (_key, node) => {
    if (typeof node.location === "number" && node.location >= 0) min = Math.min(min, node.location);
  });
  return min;
}

const TRAILING = /(\s+|,|;|\basc\b|\bdesc\b|\bnulls\s+(first|last)\b|\busing\s+\S+|\blimit\b|\boffset\b|\bfetch\s+(first|next)\b)$/i;

function trimSortText(text: string): string {
  let out = text;
  for (let prev = ""; prev !== out;) {
    prev = out;
    out = out.replace(TRAILING, "");
  }
  // An expression written in parentheses starts inside them: put back the ones its text closes.
  let depth = 0;
  let open = 0;
  for (const ch of out) {
    if (ch === "(") depth++;
    else if (ch === ")" && --depth < open) open = depth;
  }
  return "(".repeat(-open) + out;
}

/**
 * The solution with `(<expr>) as "__order_<n>"` appended to the select list, and without its
 * LIMIT/OFFSET when `dropLimit`; null when the text does not allow it.
 */
function appendTargets(solution: string, node: AstNode, sorts: AstNode[], expressions: AstNode[], dropLimit: boolean): string | null {
  let bytes = Buffer.from(solution, "utf8");
  const starts = sorts.map((s) => startOf(s.node));
  const tail = Math.min(startOf(node.limitCount ?? null), startOf(node.limitOffset ?? null), bytes.length);
  if (dropLimit) {
    // The clause starts at its keyword, the last one between the last sort key and the first LIMIT/OFFSET value.
    const lastSort = starts.at(-1)!;
    if (!Number.isFinite(lastSort) || tail <= lastSort) return null;
    const slice = bytes.subarray(lastSort, tail).toString("utf8");
    const at = [...slice.matchAll(/\b(limit|offset|fetch)\b/gi)].at(-1)?.index;
    if (at === undefined) return null;
    bytes = bytes.subarray(0, lastSort + Buffer.byteLength(slice.slice(0, at)));
  }
  if (expressions.length === 0) return bytes.toString("utf8");
  if (node.op !== "SETOP_NONE" || !Array.isArray(node.fromClause) || !Array.isArray(node.targetList)) return null;
  const texts: string[] = [];
  for (const expr of expressions) {
    const i = sorts.findIndex((s) => s.node === expr);
    const end = i + 1 < sorts.length ? starts[i + 1]! : tail;
    if (!Number.isFinite(starts[i]!) || end <= starts[i]!) return null;
    texts.push(trimSortText(bytes.subarray(starts[i]!, end).toString("utf8")));
  }
  const lastTarget = startOf((node.targetList as unknown[]).at(-1));
  const fromItem = startOf(node.fromClause);
  if (!Number.isFinite(lastTarget) || !Number.isFinite(fromItem)) return null;
  const between = bytes.subarray(lastTarget, fromItem).toString("utf8");
  const at = [...between.matchAll(/\bfrom\b/gi)].at(-1)?.index;
  if (at === undefined) return null;
  const insertAt = lastTarget + Buffer.byteLength(between.slice(0, at));
  const extra = texts.map((t, n) => `, (${t}) as "__order_${n + 1}" `).join("");
  return Buffer.concat([bytes.subarray(0, insertAt), Buffer.from(extra), bytes.subarray(insertAt)]).toString("utf8");
}

/**
 * Two rows that tie on every sort key but differ: the first such pair's row numbers (1-based, in
 * the probe's full sorted result), or null when the order is total. `extra` is how many key
 * columns were appended at the end. With a window (LIMIT/OFFSET), a tie counts when one of its
 * rows is kept and `ordered`, or when one is kept and the other is not.
 */
export function findTie(rows: Cell[][], keyColumns: number[], extra: number, window?: OrderProbe["window"], ordered = true): [number, number] | null {
  const kept = (at: number) => !window || (at >= window.offset && (window.count === null || at < window.offset + window.count));
  const groups = new Map<string, { row: string; at: number }[]>();
  for (const [at, row] of rows.entries()) {
    const width = row.length - extra;
    const key = JSON.stringify([...keyColumns.map((i) => row[i]), ...row.slice(width)]);
    const group = groups.get(key) ?? [];
    groups.set(key, group);
    const content = JSON.stringify(row.slice(0, width));
    for (const other of group) {
      if (other.row === content) continue;
      const counts = ordered ? kept(other.at) || kept(at) : kept(other.at) !== kept(at);
      if (counts) return [other.at + 1, at + 1];
    }
    if (group.length < 64) group.push({ row: content, at }); // enough to find a pair; bounds the work on big groups
  }
  return null;
}
