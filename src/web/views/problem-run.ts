/**
 * "Run": executes the query against the problem's data (POST /problems/run)
 * and shows its rows or its error with a caret, without a verdict and
 * without storing a submission. A server without the route (404) says so
 * once and the button stays off.
 */
import { ApiError, post, retryAt } from "../lib/api";
import { h } from "../lib/dom";
import type { Column, RunResult } from "../lib/types";
import { errorBox } from "./common";
import { dataTable, positionSnippet } from "./result";
import { LIMITED } from "./wait";

export function runPanel(problemId: string, query: () => string, onError: (position: number | null) => void) {
  const button = h("button", { type: "button", class: "run-btn", title: "Run (Ctrl+Enter)" }, "Run");
  const out = h("div", { class: "run-output", "aria-live": "polite" });

  async function run() {
    const sql = query();
    if (!sql.trim() || button.disabled) return;
    button.disabled = true;
    button.textContent = "Running…";
    let unavailable = false;
    try {
      const r = await post<RunResult>("/problems/run", { problem_id: problemId, sql_query: sql });
      out.replaceChildren(show(r, sql));
      onError(r.error?.position ?? null);
    } catch (err) {
      unavailable = err instanceof ApiError && err.status === 404 && err.code !== "problem_not_found" && !/problem/i.test(err.message);
      const until = retryAt(err);
      out.replaceChildren(unavailable ? h("p", { class: "muted run-unavailable" }, "Running without submitting is not available on this server yet.")
        : until ? h("div", { class: "alert", role: "alert" }, LIMITED.run(until)) : errorBox((err as Error).message));
    } finally {
      button.textContent = "Run";
      button.disabled = unavailable;
    }
  }
  button.addEventListener("click", () => void run());
  return { button, out, run };
}

function show(r: RunResult, sql: string): HTMLElement {
  if (r.error) {
    const at = r.error.position ?? null;
    return h("div", { class: "result run-result", "data-run": "error" },
      h("div", { class: "result-error" },
        h("div", null, r.error.message),
        r.error.hint ? h("div", { class: "muted" }, `Hint: ${r.error.hint}`) : null,
        r.error.sqlstate ? h("div", { class: "muted" }, `SQLSTATE ${r.error.sqlstate}`) : null,
        at ? positionSnippet(sql, at) : null));
  }
  const columns: Column[] = (r.columns ?? []).map((c) => (typeof c === "string" ? { name: c } : c));
  const count = r.rows_returned ?? r.rows.length;
  const meta = `${count} row${count === 1 ? "" : "s"}${r.duration_ms !== undefined ? ` · ${Math.round(r.duration_ms)} ms` : ""}`;
  return h("div", { class: "result run-result", "data-run": "ok" },
    h("div", { class: "result-head" }, h("span", { class: "verdict pending run-tag" }, "Run only, not judged"), h("span", { class: "result-meta" }, meta)),
    columns.length ? dataTable(columns, r.rows, count > r.rows.length || r.truncated ? `First ${r.rows.length} rows` : undefined) : null);
}
