/**
 * The left side of a problem: statement, tables (columns and sample rows),
 * the expected-output preview when the pack allows it, hints revealed one at
 * a time, the reference solution once solved, and how others fared.
 */
import { h } from "../lib/dom";
import { renderMarkdown } from "../lib/markdown";
import type { Problem, ProblemStats, TableInfo } from "../lib/types";
import { dataTable } from "./result";

export function schemaCard(tables: TableInfo[]): HTMLElement {
  return h("section", { class: "card-block schema", "aria-label": "Schema" },
    // Narrow screens put the editor first and fold the schema (CSS); wide ones show it open.
    h("details", { class: "schema-fold", open: !matchMedia("(max-width: 760px)").matches },
      h("summary", null, h("h3", null, "Tables"), h("span", { class: "muted" }, ` ${tables.length} table${tables.length === 1 ? "" : "s"}`)),
      tables.map((t, i) => h("details", { class: "table-info", open: i < 2 },
        h("summary", null, h("code", null, t.name), h("span", { class: "muted" }, ` ${t.columns.length} columns`)),
        h("ul", { class: "columns" }, t.columns.map((c) => h("li", null, h("code", null, c.name), c.type ? h("span", { class: "col-type" }, c.type) : null))),
        t.sample?.rows.length ? dataTable(t.sample.columns.map((name) => ({ name })), t.sample.rows, "Sample rows") : null,
      ))));
}

export function statsLine(s: ProblemStats | undefined): string {
  if (!s) return "";
  const rate = s.acceptance_rate === null ? "no verdicts yet" : `${Math.round(s.acceptance_rate * 100)}% accepted`;
  return `${rate} · ${s.solvers} solver${s.solvers === 1 ? "" : "s"}`;
}

function hintsCard(hints: string[]): HTMLElement | null {
  if (!hints.length) return null;
  const list = h("ol", { class: "hints", "aria-live": "polite" });
  const more = h("button", { type: "button", class: "subtle-btn" }, "Show a hint");
  let shown = 0;
  more.addEventListener("click", () => {
    list.append(h("li", null, renderMarkdown(hints[shown++]!)));
    more.textContent = shown < hints.length ? `Show hint ${shown + 1} of ${hints.length}` : "";
    more.hidden = shown >= hints.length;
  });
  return h("section", { class: "card-block", "aria-label": "Hints" }, h("h3", null, "Hints"), list, more);
}

export function solutionCard(solution: string): HTMLElement {
  return h("section", { class: "card-block solution", "aria-label": "Reference solution" },
    h("details", null, h("summary", null, h("h3", null, "Reference solution")), h("pre", null, h("code", null, solution))));
}

export function problemInfo(p: Problem): { el: HTMLElement; showSolution(sql: string): void } {
  const solutionSlot = h("div", { class: "solution-slot" }, p.solution ? solutionCard(p.solution) : null);
  const preview = p.expected_preview;
  const el = h("div", { class: "problem-info" },
    h("section", { class: "card-block statement", "aria-label": "Statement" }, renderMarkdown(p.statement ?? "")),
    preview ? h("section", { class: "card-block expected", "aria-label": "Expected output" },
      h("h3", null, "Expected output"),
      dataTable(preview.columns, preview.rows, preview.total_rows > preview.rows.length ? `First ${preview.rows.length} of ${preview.total_rows} rows` : `${preview.total_rows} row${preview.total_rows === 1 ? "" : "s"}`)) : null,
    hintsCard(p.hints ?? []),
    solutionSlot,
  );
  return { el, showSolution: (sql) => solutionSlot.replaceChildren(solutionCard(sql)) };
}
