/** The SQL practice catalogue: problems with difficulty and solved marks. */
import { ApiError, get } from "../lib/api";
import { h, icon, ICONS } from "../lib/dom";
import type { ProblemSummary } from "../lib/types";
import { errorBox, paneHead, spinner, type View } from "./common";
import { statsLine } from "./problem-info";

const LEVELS = ["all", "easy", "medium", "hard"] as const;

export const listOf = <T>(body: unknown, key: string): T[] => (Array.isArray(body) ? body : ((body as Record<string, T[]>)?.[key] ?? []));

export function problemsView(): View {
  const list = h("ul", { class: "problem-list", "aria-label": "Problems" }, spinner());
  const summary = h("span", { class: "muted" });
  let level: (typeof LEVELS)[number] = "all";
  let all: ProblemSummary[] = [];
  /** My solved count and streak (days in a row with an accepted submission). */
  let me: { solved: number; streak: number } | null = null;
  const chips = LEVELS.map((l) => {
    const b = h("button", { type: "button", class: "chip", "aria-pressed": String(l === level) }, l === "all" ? "All" : l[0]!.toUpperCase() + l.slice(1));
    b.addEventListener("click", () => {
      level = l;
      chips.forEach((c, i) => c.setAttribute("aria-pressed", String(LEVELS[i] === l)));
      render();
    });
    return b;
  });

  function render() {
    const shown = all.filter((p) => level === "all" || p.difficulty === level);
    const solved = all.filter((p) => p.solved).length;
    summary.textContent = all.length ? `${me?.solved ?? solved} of ${all.length} solved${me ? ` · ${me.streak}-day streak` : ""}` : "";
    if (!shown.length) return list.replaceChildren(h("li", { class: "empty" }, all.length ? "No problems at this level." : "No problems yet."));
    list.replaceChildren(...shown.map((p) => h("li", null, h("a", { class: `problem-row${p.solved ? " solved" : ""}`, href: `#/problems/${encodeURIComponent(p.id)}` },
      h("span", { class: "solved-mark", "aria-label": p.solved ? "solved" : "not solved", role: "img" }, p.solved ? icon(ICONS.check) : null),
      h("span", { class: "problem-title" }, p.title),
      p.stats ? h("span", { class: "problem-meta" }, statsLine(p.stats)) : null,
      p.pack ? h("span", { class: "muted pack" }, p.pack) : null,
      h("span", { class: `difficulty ${p.difficulty}` }, p.difficulty),
    ))));
  }

  void get<unknown>("/problems").then((body) => {
    all = listOf<ProblemSummary>(body, "problems");
    me = (body as { me?: { solved: number; streak: number } }).me ?? null;
    render();
  }).catch((err) => {
    list.replaceChildren(errorBox(err instanceof ApiError && err.status === 404 ? "SQL practice is not available on this server yet." : (err as Error).message));
  });

  const el = h("section", { class: "pane page", "aria-label": "SQL practice" },
    paneHead("SQL practice", summary, [h("a", { class: "button subtle", href: "#/submissions" }, icon(ICONS.history), h("span", null, "My submissions"))]),
    h("div", { class: "page-body" }, h("div", { class: "chips", role: "group", "aria-label": "Difficulty" }, chips), list),
  );
  return { el };
}
