/** Rendering of judge results: verdict badges, the error with its position, and result tables. */
import { h } from "../lib/dom";
import type { Column, JobResult } from "../lib/types";

const VERDICTS: Record<string, { label: string; tone: string }> = {
  accepted: { label: "Accepted", tone: "ok" },
  wrong_answer: { label: "Wrong answer", tone: "bad" },
  sql_error: { label: "SQL error", tone: "warn" },
  time_limit_exceeded: { label: "Time limit exceeded", tone: "warn" },
  output_limit_exceeded: { label: "Output limit exceeded", tone: "warn" },
  resource_limit_exceeded: { label: "Resource limit exceeded", tone: "warn" },
  forbidden: { label: "Forbidden", tone: "bad" },
  internal_error: { label: "Internal error", tone: "warn" },
};

export function verdictBadge(verdict: string | null | undefined, status?: string): HTMLElement {
  if (!verdict) {
    const label = status === "processing" ? "Running…" : status === "failed" ? "Failed" : "Queued";
    return h("span", { class: `verdict pending ${status ?? "queued"}` }, label);
  }
  const v = VERDICTS[verdict] ?? { label: verdict.replaceAll("_", " "), tone: "warn" };
  return h("span", { class: `verdict ${v.tone}`, "data-verdict": verdict }, v.label);
}

export function cellText(v: unknown): string {
  if (v === null || v === undefined) return "NULL";
  if (typeof v === "object") return JSON.stringify(v);
  return String(v);
}

/** A scrollable table; rows are arrays (or objects keyed by column name). */
export function dataTable(columns: Column[], rows: unknown[], caption?: string): HTMLElement {
  const cell = (row: unknown, i: number, c: Column) => (Array.isArray(row) ? row[i] : (row as Record<string, unknown>)?.[c.name]);
  return h("div", { class: "table-wrap" }, h("table", { class: "data" },
    caption ? h("caption", null, caption) : null,
    h("thead", null, h("tr", null, columns.map((c) => h("th", { scope: "col" }, c.name, c.type ? h("span", { class: "col-type" }, c.type) : null)))),
    h("tbody", null, rows.map((r) => h("tr", null, columns.map((c, i) => {
      const v = cell(r, i, c);
      return h("td", { class: v === null || v === undefined ? "null" : typeof v === "number" ? "num" : null }, cellText(v));
    })))),
  ));
}

/** The line of the query around a 1-based character position, with a caret under it. */
export function positionSnippet(sql: string, position: number): HTMLElement | null {
  if (!position || position < 1 || position > sql.length + 1) return null;
  const before = sql.slice(0, position - 1);
  const lineNo = before.split("\n").length;
  const lineStart = before.lastIndexOf("\n") + 1;
  const lineEnd = sql.indexOf("\n", lineStart);
  const line = sql.slice(lineStart, lineEnd < 0 ? undefined : lineEnd);
  const col = position - 1 - lineStart;
  return h("pre", { class: "caret-snippet", "aria-label": `Error at line ${lineNo}, column ${col + 1}` }, `${line}\n${" ".repeat(col)}^ line ${lineNo}, column ${col + 1}`);
}

export function resultPanel(r: JobResult, sql: string): HTMLElement {
  const meta: (string | HTMLElement)[] = [];
  if (r.duration_ms !== null && r.duration_ms !== undefined) meta.push(h("span", null, `${Math.round(r.duration_ms)} ms`));
  if (r.rows_returned !== null && r.rows_returned !== undefined) meta.push(h("span", null, `${r.rows_returned} row${r.rows_returned === 1 ? "" : "s"}`));
  const rows = r.rows ?? [];
  const columns = r.columns ?? [];
  const snippet = r.position ? positionSnippet(sql, r.position) : null;
  return h("div", { class: "result", "data-status": r.status },
    h("div", { class: "result-head" }, verdictBadge(r.verdict, r.status), h("span", { class: "result-meta" }, meta)),
    r.error ? h("div", { class: `result-error ${r.verdict === "wrong_answer" ? "soft" : ""}` },
      h("div", null, r.error), r.sqlstate ? h("div", { class: "muted" }, `SQLSTATE ${r.sqlstate}`) : null, snippet) : null,
    columns.length ? dataTable(columns, rows, r.rows_returned && r.rows_returned > rows.length ? `First ${rows.length} of ${r.rows_returned} rows` : undefined) : null,
  );
}
