/**
 * Message search (GET /chat/search): a query box and the results, newest
 * first, each with its conversation, sender, time and the server's snippet.
 * The snippet is HTML-escaped text with matches in <mark>; it is rebuilt here
 * from text nodes and <mark> elements only, never inserted as HTML. A result
 * opens the conversation scrolled to that message (#/c/{id}/{seq}).
 */
import { get, qs } from "../lib/api";
import { h } from "../lib/dom";
import { fullDate, listTime } from "../lib/format";
import type { Message } from "../lib/types";
import type { ChatClient } from "../chat/client";
import { errorBox, paneHead, spinner, type View } from "./common";

type Result = { conversation_id: string; conversation_kind: "direct" | "room"; conversation_name: string | null; message: Message; snippet: string };
type Page = { results: Result[]; next_before: string | null };

const ENTITIES: Record<string, string> = { amp: "&", lt: "<", gt: ">", quot: '"', "#39": "'", "#x27": "'" };

/** The snippet as nodes: text between <mark> and </mark> is highlighted, everything is text. */
export function snippetNodes(snippet: string): Node[] {
  const out: Node[] = [];
  const text = (s: string) => document.createTextNode(s.replace(/&(amp|lt|gt|quot|#39|#x27);/g, (_, e: string) => ENTITIES[e]!));
  // Split keeps the tags as their own parts; anything else (there should be nothing) stays literal text.
  let marked = false;
  for (const part of snippet.split(/(<mark>|<\/mark>)/)) {
    if (part === "<mark>") marked = true;
    else if (part === "</mark>") marked = false;
    else if (part) out.push(marked ? h("mark", null, text(part)) : text(part));
  }
  return out;
}

export function searchView(client: ChatClient, initial: string): View {
  const s = client.store;
  const input = h("input", { id: "message-search", "data-search": true, type: "search", placeholder: "Words, \"a phrase\", -without", autocomplete: "off", maxlength: 200, value: initial });
  const status = h("p", { class: "muted search-status", role: "status", "aria-live": "polite" });
  const results = h("ul", { class: "card-list search-results", "aria-label": "Search results" });
  const more = h("button", { type: "button", hidden: true }, "Older results");
  let seq = 0;
  let before: string | null = null;

  const where = (r: Result) => r.conversation_kind === "room"
    ? `#${r.conversation_name ?? "room"}`
    : (() => {
      const c = s.convs.get(r.conversation_id);
      return c?.peer ? (c.peer.display_name || c.peer.username) : "Direct message";
    })();

  function row(r: Result): HTMLElement {
    const m = r.message;
    return h("li", null, h("a", { class: "card search-hit", href: `#/c/${r.conversation_id}/${m.seq}`, "data-seq": m.seq },
      h("div", { class: "card-main" },
        h("div", { class: "card-title" }, where(r), " · ", h("span", { class: "muted" }, s.nameOf(m.sender_id)), " ",
          h("time", { class: "muted", datetime: m.timestamp, title: fullDate(m.timestamp) }, listTime(m.timestamp))),
        h("div", { class: "snippet" }, snippetNodes(r.snippet)),
      )));
  }

  async function run(append: boolean) {
    const q = input.value.trim();
    const mine = ++seq;
    if (!q) {
      results.replaceChildren();
      status.textContent = "Type words to find in your conversations.";
      return void (more.hidden = true);
    }
    if (!append) (results.replaceChildren(spinner("Searching…")), (before = null));
    try {
      const page = await get<Page>(`/chat/search${qs({ q, limit: 20, before: append ? before : undefined })}`);
      if (mine !== seq) return;
      if (!append) results.replaceChildren();
      results.append(...page.results.map(row));
      before = page.next_before;
      more.hidden = !before;
      const n = results.childElementCount;
      status.textContent = n ? `${n}${before ? "+" : ""} message${n === 1 ? "" : "s"} found` : `Nothing found for “${q}”. Messages sent a moment ago are found a moment later.`;
    } catch (err) {
      if (mine === seq) results.replaceChildren(errorBox((err as Error).message));
    }
  }

  const form = h("form", { class: "field search-form", role: "search", onsubmit: (e: Event) => {
    e.preventDefault();
    history.replaceState(null, "", `#/search/${encodeURIComponent(input.value.trim())}`);
    void run(false);
  } }, h("label", { for: "message-search" }, "Search messages"), input);
  more.addEventListener("click", () => void run(true));
  const el = h("section", { class: "pane page", "aria-label": "Search" },
    paneHead("Search", "Messages of the conversations you are in"),
    h("div", { class: "page-body" }, form, status, results, more));
  void run(false);
  queueMicrotask(() => input.focus());
  return { el };
}
