/**
 * Compares a submission's result with the expected result. Column names are
 * ignored; the column count must match; rows are compared as a multiset, or
 * as a sequence when the problem is ordered. Values are compared by what they
 * mean for their type: numeric 9 = 9.0 = 9.00, a timestamp is the same instant
 * whatever its fractional zeros or UTC offset, NULL equals only NULL.
 *
 * A wrong answer's reason never shows the expected result, neither an expected
 * row nor which row belongs where ("row 2 should be X" gave an ordered
 * problem's answer away one row per submission): it gives counts, the kind of
 * value a column should hold (derivable from the statement), and the first
 * wrong row of the submission's own output with its position.
 */
import type { Cell, Column } from "../sandbox/types";

export interface ResultSet {
  columns: Column[];
  rows: Cell[][];
}

/** What was wrong, without any value: said for hidden tests, whose rows are never shown. */
export type Mismatch = "columns" | "count" | "rows" | "order";

export type Comparison = { verdict: "accepted" } | { verdict: "wrong_answer"; reason: string; kind: Mismatch };

type Category = "num" | "bool" | "time" | "json" | "text";

const NUMERIC = /^(int[248]|numeric|float[48]|oid|money)$/;
const KIND: Record<Category, string> = { num: "a number", bool: "a boolean", time: "a date or time", json: "JSON", text: "text" };
const TEMPORAL = /^(date|timestamp|timestamptz)$/;

function category(type: string): Category {
  if (NUMERIC.test(type)) return "num";
  if (type === "bool") return "bool";
  if (TEMPORAL.test(type)) return "time";
  if (type === "json" || type === "jsonb") return "json";
  return "text";
}

/** Integers exactly (any size); other numbers to 12 significant digits, so float noise is not a wrong answer. */
export function canonicalNumber(text: string): string {
  const s = text.replace(/[$,]/g, "").trim();
  const m = /^([+-]?)(\d+)(?:\.(\d*?)0*)?$/.exec(s);
  if (m && !m[3]) {
    const digits = m[2]!.replace(/^0+(?=\d)/, "");
    return digits === "0" ? "0" : `${m[1] === "-" ? "-" : ""}${digits}`;
  }
  const n = Number(s);
  if (!Number.isFinite(n)) return s.toLowerCase(); // NaN, Infinity, -Infinity
  const rounded = Number(n.toPrecision(12));
  return Object.is(rounded, -0) ? "0" : String(rounded);
}

/** `2024-01-02 03:04:05.500+02` -> the UTC instant `2024-01-02 01:04:05.5`; midnight drops its time, so a date equals its timestamp. */
export function canonicalTime(text: string): string {
  const m = /^(\d{4,}-\d\d-\d\d)(?:[ T](\d\d):(\d\d):(\d\d)(?:\.(\d+))?([+-]\d\d(?::?\d\d)?(?::\d\d)?)?)?( BC)?$/.exec(text);
  if (!m) return text; // infinity, -infinity, anything unexpected
  const [, date, hh = "00", mi = "00", ss = "00", frac = "", offset, bc = ""] = m;
  let stamp = `${date} ${hh}:${mi}:${ss}`;
  if (offset && !bc) {
    const [, sign, oh, om = "00"] = /^([+-])(\d\d):?(\d\d)?/.exec(offset)!;
    const minutes = (sign === "-" ? 1 : -1) * (Number(oh) * 60 + Number(om));
    const utc = new Date(Date.parse(`${date}T${hh}:${mi}:${ss}Z`) + minutes * 60_000);
    if (!Number.isNaN(utc.getTime())) stamp = utc.toISOString().slice(0, 19).replace("T", " ");
  }
  const fraction = frac.replace(/0+$/, "");
  const result = stamp.endsWith(" 00:00:00") && !fraction ? stamp.slice(0, 10) : `${stamp}${fraction ? `.${fraction}` : ""}`;
  return result + bc;
}

function canonicalJson(text: string): string {
  const sort = (v: unknown): unknown =>
    Array.isArray(v) ? v.map(sort)
    : v && typeof v === "object" ? Object.fromEntries(Object.keys(v).sort().map((k) => [k, sort((v as Record<string, unknown>)[k])]))
    : v;
  try {
    return JSON.stringify(sort(JSON.parse(text)));
  } catch {
    return text;
  }
}

const NULL_KEY = "\u0000null";

function canonicalCell(value: Cell, cat: Category, type: string): string {
  if (value === null) return NULL_KEY;
  switch (cat) {
    case "num": return `n:${canonicalNumber(value)}`;
    case "bool": return `b:${value === "t" || value === "true" ? "true" : "false"}`;
    case "time": return `t:${canonicalTime(value)}`;
    case "json": return `j:${canonicalJson(value)}`;
    default: return `s:${type === "bpchar" ? value.replace(/ +$/, "") : value}`;
  }
}

function canonicalRows(result: ResultSet): string[][] {
  const cats = result.columns.map((c) => category(c.type));
  return result.rows.map((row) => row.map((v, i) => canonicalCell(v, cats[i]!, result.columns[i]!.type)));
}

const keyOf = (row: string[]) => JSON.stringify(row);

/** A short, readable rendering of one of the submission's rows for the reason text. */
export function showRow(row: Cell[]): string {
  const text = `(${row.map((v) => (v === null ? "NULL" : v)).join(", ")})`;
  return text.length > 120 ? `${text.slice(0, 117)}...` : text;
}

export function compareResults(expected: ResultSet, actual: ResultSet, ordered: boolean): Comparison {
  const wrong = (reason: string, kind: Mismatch): Comparison => ({ verdict: "wrong_answer", reason, kind });
  if (expected.columns.length !== actual.columns.length) {
    return wrong(`expected ${expected.columns.length} column(s), got ${actual.columns.length}`, "columns");
  }
  if (expected.rows.length !== actual.rows.length) {
    return wrong(`expected ${expected.rows.length} row(s), got ${actual.rows.length}`, "count");
  }
  const exp = canonicalRows(expected);
  const act = canonicalRows(actual);

  // Multiset difference first: it says which row is wrong, whatever the order.
  const counts = new Map<string, number>();
  for (const row of exp) counts.set(keyOf(row), (counts.get(keyOf(row)) ?? 0) + 1);
  for (let i = 0; i < act.length; i++) {
    const key = keyOf(act[i]!);
    const left = counts.get(key) ?? 0;
    if (left === 0) {
      const where = counts.has(key) ? "appears more often than in the expected result" : "is not in the expected result";
      return wrong(kindMismatch(expected, actual) ?? `row ${i + 1} of your output, ${showRow(actual.rows[i]!)}, ${where}`, "rows");
    }
    counts.set(key, left - 1);
  }
  if (ordered) {
    const at = act.findIndex((row, i) => keyOf(row) !== keyOf(exp[i]!));
    if (at >= 0) return wrong(`the rows are right but the order is not: row ${at + 1} of your output, ${showRow(actual.rows[at]!)}, is not the expected row ${at + 1}`, "order");
  }
  return { verdict: "accepted" };
}

/** A column holding another kind of value than expected (text for a number ...) explains every wrong row at once. */
function kindMismatch(expected: ResultSet, actual: ResultSet): string | null {
  const i = expected.columns.findIndex((c, i) => category(c.type) !== category(actual.columns[i]!.type));
  if (i < 0) return null;
  const got = actual.columns[i]!.type;
  return `column ${i + 1} of your output is ${got} (${KIND[category(got)]}), but the expected column ${i + 1} holds ${KIND[category(expected.columns[i]!.type)]}`;
}
