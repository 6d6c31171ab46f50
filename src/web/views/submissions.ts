/** My past submissions, newest first; opening one puts its query back in the editor. */
import { get } from "../lib/api";
import { h } from "../lib/dom";
import { fullDate, listTime } from "../lib/format";
import type { Submission } from "../lib/types";
import { errorBox, paneHead, spinner, type View } from "./common";
import { listOf } from "./problems";
import { verdictBadge } from "./result";

export const draftKey = (problemId: string) => `huddle.sql.${problemId}`;

export function submissionRows(subs: Submission[], opts: { showProblem: boolean; onOpen?: (s: Submission) => void }): HTMLElement {
  if (!subs.length) return h("p", { class: "empty" }, "No submissions yet.");
  return h("div", { class: "table-wrap" }, h("table", { class: "data submissions" },
    h("thead", null, h("tr", null, h("th", { scope: "col" }, "When"), opts.showProblem ? h("th", { scope: "col" }, "Problem") : null, h("th", { scope: "col" }, "Verdict"), h("th", { scope: "col" }, "Time"), h("th", { scope: "col" }, "Rows"), h("th", { scope: "col" }, h("span", { class: "sr-only" }, "Actions")))),
    h("tbody", null, subs.map((s) => h("tr", null,
      h("td", null, s.created_at ? h("time", { datetime: s.created_at, title: fullDate(s.created_at) }, listTime(s.created_at)) : "—"),
      opts.showProblem ? h("td", null, h("a", { href: `#/problems/${encodeURIComponent(s.problem_id)}` }, s.problem_title ?? s.problem_id)) : null,
      h("td", null, verdictBadge(s.verdict, s.status)),
      h("td", { class: "num" }, s.duration_ms !== null && s.duration_ms !== undefined ? `${Math.round(s.duration_ms)} ms` : "—"),
      h("td", { class: "num" }, s.rows_returned ?? "—"),
      h("td", null, s.sql_query && opts.onOpen ? h("button", { type: "button", class: "link", onclick: () => opts.onOpen!(s) }, "Load query") : null),
    ))),
  ));
}

export function submissionsView(): View {
  const body = h("div", { class: "page-body" }, spinner());
  void get<unknown>("/problems/submissions").then((res) => {
    const subs = listOf<Submission>(res, "submissions");
    body.replaceChildren(submissionRows(subs, {
      showProblem: true,
      onOpen: (s) => {
        localStorage.setItem(draftKey(s.problem_id), s.sql_query ?? "");
        location.hash = `#/problems/${encodeURIComponent(s.problem_id)}`;
      },
    }));
  }).catch((err) => body.replaceChildren(errorBox((err as Error).message)));
  return { el: h("section", { class: "pane page", "aria-label": "My submissions" }, paneHead("My submissions", "Newest first", [], "#/problems"), body) };
}
