/**
 * One problem: what it asks (problem-info.ts), the SQL editor
 * (sql-editor.ts; Ctrl/Cmd+Enter runs, Shift+Ctrl/Cmd+Enter submits), Run
 * (problem-run.ts), the live status of the submission and my earlier
 * submissions for this problem.
 *
 * Every accepted submission is followed to its verdict, not only the newest:
 * a refused one (429) must not strand the ones already queued. The panel
 * shows the newest accepted submission; a refusal is a notice beside it.
 * Submit is off while a submission is on its way to the server, and each
 * attempt carries a client_id: sending it again (a retry after a lost
 * answer) cannot queue it twice.
 */
import { get, post, retryAt } from "../lib/api";
import { h } from "../lib/dom";
import type { JobResult, Problem, Submission } from "../lib/types";
import type { ChatClient } from "../chat/client";
import { errorBox, paneHead, spinner, type View } from "./common";
import { listOf } from "./problems";
import { problemInfo, schemaCard, statsLine } from "./problem-info";
import { runPanel } from "./problem-run";
import { resultPanel, verdictBadge } from "./result";
import { sqlEditor, type SqlEditor } from "./sql-editor";
import { draftKey, submissionRows } from "./submissions";
import { LIMITED } from "./wait";

const POLL_MS = 1500;
const GIVE_UP_MS = 120_000;

export function problemView(client: ChatClient, problemId: string): View {
  const head = paneHead("Problem", undefined, [h("a", { class: "button subtle", href: "#/problems" }, "All problems")], "#/problems");
  const body = h("div", { class: "page-body problem" }, spinner());
  const submit = h("button", { type: "submit", class: "primary", title: "Submit (Shift+Ctrl+Enter)" }, "Submit");
  const current = h("div", { class: "job-current" });
  const notice = h("div", { class: "job-notice" });
  const status = h("div", { class: "job-status", "aria-live": "polite" }, notice, current);
  const history = h("div", { class: "history" });
  /** Stops following a job, by job id: every submission still waiting for its verdict. */
  const tracking = new Map<string, () => void>();
  /** The job the panel shows: the newest accepted submission. */
  let shown: string | null = null;
  /** The attempt being sent: the same text sent again keeps its client_id until the server has taken it. */
  let attempt: { sql: string; clientId: string } | null = null;
  let editor: SqlEditor | null = null;
  let info: ReturnType<typeof problemInfo> | null = null;
  const run = runPanel(problemId, () => editor?.value() ?? "", (pos) => editor?.markError(pos));

  async function send() {
    const sql = editor?.value() ?? "";
    if (!sql.trim() || submit.disabled) return;
    notice.replaceChildren();
    if (attempt?.sql !== sql) attempt = { sql, clientId: crypto.randomUUID() };
    submit.disabled = true;
    submit.textContent = "Submitting…";
    try {
      const job = await post<{ job_id: string; status: string }>("/problems/submit", { problem_id: problemId, sql_query: sql, client_id: attempt.clientId });
      attempt = null;
      if (tracking.has(job.job_id) || job.job_id === shown) return;
      shown = job.job_id;
      current.replaceChildren(h("div", { class: "result" }, h("div", { class: "result-head" }, verdictBadge(null, "queued"))));
      track(job.job_id, sql);
      void loadHistory();
    } catch (err) {
      const until = retryAt(err);
      notice.replaceChildren(until ? h("div", { class: "alert", role: "alert" }, LIMITED.submit(until)) : errorBox((err as Error).message));
    } finally {
      submit.disabled = false;
      submit.textContent = "Submit";
    }
  }

  /** Follows a job: the socket's problem.result frame, with polling as the fallback. */
  function track(jobId: string, sql: string) {
    let done = false;
    const started = Date.now();
    const show = (r: JobResult) => {
      if (done) return;
      if (jobId === shown) {
        current.replaceChildren(resultPanel(r, sql));
        if (r.position) editor?.markError(r.position);
      }
      if (r.status === "completed" || r.status === "failed") {
        tracking.get(jobId)?.();
        void loadHistory();
        // A verdict moves the stats; once solved, the reference solution opens up (the server only sends it now).
        void get<Problem>(`/problems/${encodeURIComponent(problemId)}`).then((p) => {
          const stats = head.querySelector(".problem-stats");
          if (stats) stats.textContent = ` · ${statsLine(p.stats)}`;
          if (p.solution) info?.showSolution(p.solution);
        }).catch(() => {});
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
      const subs = listOf<Submission>(await get<unknown>(`/problems/submissions?problem_id=${encodeURIComponent(problemId)}`), "submissions").filter((s) => s.problem_id === problemId);
      if (mine !== historySeq) return;
      history.replaceChildren(h("h3", null, "Your submissions"), submissionRows(subs, {
        showProblem: false,
        onOpen: (s) => {
          editor?.set(s.sql_query ?? "");
          editor?.focus();
        },
      }));
    } catch {
      if (mine === historySeq) history.replaceChildren();
    }
  }

  void get<Problem>(`/problems/${encodeURIComponent(problemId)}`).then((p) => {
    head.querySelector(".pane-title")!.textContent = p.title;
    const sub = h("div", { class: "pane-sub" }, h("span", { class: `difficulty ${p.difficulty}` }, p.difficulty), p.pack ? ` · ${p.pack}` : "", p.solved ? " · solved" : "", h("span", { class: "problem-stats" }, ` · ${statsLine(p.stats)}`));
    head.querySelector(".titles")!.append(sub);
    const tables = Object.fromEntries((p.tables ?? []).map((t) => [t.name, t.columns.map((c) => c.name)]));
    editor = sqlEditor({
      label: "Your query", describedBy: "sql-help", tables,
      initial: localStorage.getItem(draftKey(problemId)) ?? "",
      onChange: (text) => localStorage.setItem(draftKey(problemId), text),
      onRun: () => void run.run(),
      onSubmit: () => void send(),
    });
    const form = h("form", { class: "card-block editor-block", onsubmit: (e: Event) => (e.preventDefault(), void send()) },
      h("div", { class: "block-title" }, "Your query"),
      editor.el,
      h("div", { class: "editor-bar" },
        h("span", { id: "sql-help", class: "muted" }, "One SELECT statement. Ctrl+Enter runs it, Shift+Ctrl+Enter submits."),
        h("span", { class: "editor-actions" }, run.button, submit)),
      run.out,
      status,
    );
    info = problemInfo(p);
    // Two columns on wide screens; on a phone the columns dissolve (CSS) and the editor comes right after the statement.
    body.replaceChildren(
      h("div", { class: "problem-col read" }, info.el, p.tables?.length ? schemaCard(p.tables) : ""),
      h("div", { class: "problem-col work" }, form, h("section", { class: "card-block problem-history" }, history)));
    void loadHistory();
  }).catch((err) => body.replaceChildren(errorBox((err as Error).message)));

  return { el: h("section", { class: "pane page problem-page", "aria-label": "Problem" }, head, body), destroy: () => [...tracking.values()].forEach((stop) => stop()) };
}
