/**
 * One problem: statement (safe markdown), the schema's tables, a SQL editor
 * (Ctrl/Cmd+Enter submits), the live status of the submission and its result,
 * and my earlier submissions for this problem.
 *
 * Every accepted submission is followed to its verdict, not only the newest:
 * a refused one (429) must not strand the ones already queued. The panel
 * shows the newest accepted submission; a refusal is a notice beside it.
 */
import { get, post, retryAt } from "../lib/api";
import { h } from "../lib/dom";
import { renderMarkdown } from "../lib/markdown";
import type { JobResult, Problem, Submission, TableInfo } from "../lib/types";
import type { ChatClient } from "../chat/client";
import { busy, errorBox, paneHead, spinner, type View } from "./common";
import { listOf } from "./problems";
import { dataTable, resultPanel, verdictBadge } from "./result";
import { draftKey, submissionRows } from "./submissions";
import { LIMITED } from "./wait";

const POLL_MS = 1500;
const GIVE_UP_MS = 120_000;

function schemaCard(tables: TableInfo[]): HTMLElement {
  return h("section", { class: "card-block", "aria-label": "Schema" }, h("h3", null, "Tables"),
    tables.map((t, i) => h("details", { class: "table-info", open: i < 2 },
      h("summary", null, h("code", null, t.name), h("span", { class: "muted" }, ` ${t.columns.length} columns`)),
      h("ul", { class: "columns" }, t.columns.map((c) => h("li", null, h("code", null, c.name), c.type ? h("span", { class: "col-type" }, c.type) : null))),
      (t.sample_rows ?? t.rows)?.length ? dataTable(t.columns, (t.sample_rows ?? t.rows)!, "Sample rows") : null,
    )));
}

export function problemView(client: ChatClient, problemId: string): View {
  const head = paneHead("Problem", undefined, [h("a", { class: "button subtle", href: "#/problems" }, "All problems")], "#/problems");
  const body = h("div", { class: "page-body problem" }, spinner());
  const editor = h("textarea", { id: "sql-editor", class: "sql-editor", spellcheck: false, autocomplete: "off", autocapitalize: "off", rows: 8, placeholder: "select …", "aria-describedby": "sql-help" });
  editor.value = localStorage.getItem(draftKey(problemId)) ?? "";
  const submit = h("button", { type: "submit", class: "primary" }, "Submit");
  const current = h("div", { class: "job-current" });
  const notice = h("div", { class: "job-notice" });
  const status = h("div", { class: "job-status", "aria-live": "polite" }, notice, current);
  const history = h("div", { class: "history" });
  /** Stops following a job, by job id: every submission still waiting for its verdict. */
  const tracking = new Map<string, () => void>();
  /** The job the panel shows: the newest accepted submission. */
  let shown: string | null = null;

  const form = h("form", { class: "card-block editor-block", onsubmit: (e: Event) => (e.preventDefault(), void send()) },
    h("label", { for: "sql-editor", class: "block-title" }, "Your query"),
    editor,
    h("div", { class: "editor-bar" }, h("span", { id: "sql-help", class: "muted" }, "Ctrl+Enter to submit. One SELECT statement."), submit),
    status,
  );
  editor.addEventListener("keydown", (e) => {
    if (e.key === "Enter" && (e.ctrlKey || e.metaKey)) {
      e.preventDefault();
      void send();
    }
  });
  editor.addEventListener("input", () => localStorage.setItem(draftKey(problemId), editor.value));

  async function send() {
    const sql = editor.value;
    if (!sql.trim() || submit.disabled) return;
    notice.replaceChildren();
    try {
      const job = await busy(submit, () => post<{ job_id: string; status: string }>("/problems/submit", { problem_id: problemId, sql_query: sql }));
      shown = job.job_id;
      current.replaceChildren(h("div", { class: "result" }, h("div", { class: "result-head" }, verdictBadge(null, "queued"))));
      track(job.job_id, sql);
      void loadHistory();
    } catch (err) {
      const until = retryAt(err);
      notice.replaceChildren(until ? h("div", { class: "alert", role: "alert" }, LIMITED.submit(until)) : errorBox((err as Error).message));
    }
  }

  /** Follows a job: the socket's problem.result frame, with polling as the fallback. */
  function track(jobId: string, sql: string) {
    let done = false;
    const started = Date.now();
    const show = (r: JobResult) => {
      if (done) return;
      if (jobId === shown) current.replaceChildren(resultPanel(r, sql));
      if (r.status === "completed" || r.status === "failed") {
        tracking.get(jobId)?.();
        void loadHistory();
      }
    };
    const off = client.onFrame$((f) => {
      const r = (f.result ?? f) as JobResult;
      if (f.type === "problem.result" && r.job_id === jobId) show(r);
    });
    let timer: ReturnType<typeof setTimeout> | undefined;
    const poll = async () => {
      if (done) return;
      try {
        show(await get<JobResult>(`/problems/result/${jobId}`));
      } catch {}
      if (!done && Date.now() - started < GIVE_UP_MS) timer = setTimeout(poll, POLL_MS);
    };
    timer = setTimeout(poll, POLL_MS);
    tracking.set(jobId, () => {
      done = true;
      off();
      clearTimeout(timer);
      tracking.delete(jobId);
    });
  }

  let historySeq = 0;
  async function loadHistory() {
    // Verdicts land close together: only the newest answer is drawn.
    const mine = ++historySeq;
    try {
      const subs = listOf<Submission>(await get<unknown>("/problems/submissions"), "submissions").filter((s) => s.problem_id === problemId);
      if (mine !== historySeq) return;
      history.replaceChildren(h("h3", null, "Your submissions"), submissionRows(subs, {
        showProblem: false,
        onOpen: (s) => {
          editor.value = s.sql_query ?? "";
          localStorage.setItem(draftKey(problemId), editor.value);
          editor.focus();
        },
      }));
    } catch {
      if (mine === historySeq) history.replaceChildren();
    }
  }

  void get<Problem>(`/problems/${encodeURIComponent(problemId)}`).then((p) => {
    head.querySelector(".pane-title")!.textContent = p.title;
    const sub = h("div", { class: "pane-sub" }, h("span", { class: `difficulty ${p.difficulty}` }, p.difficulty), p.pack ? ` · ${p.pack}` : "", p.solved ? " · solved" : "");
    head.querySelector(".titles")!.append(sub);
    body.replaceChildren(
      h("div", { class: "problem-info" },
        h("section", { class: "card-block statement", "aria-label": "Statement" }, renderMarkdown(p.statement ?? "")),
        p.tables?.length ? schemaCard(p.tables) : null),
      h("div", { class: "problem-work" }, form, h("section", { class: "card-block" }, history)),
    );
    void loadHistory();
  }).catch((err) => body.replaceChildren(errorBox((err as Error).message)));

  return { el: h("section", { class: "pane page", "aria-label": "Problem" }, head, body), destroy: () => [...tracking.values()].forEach((stop) => stop()) };
}
