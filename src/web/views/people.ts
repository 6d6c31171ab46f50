/** Find people and start (or open) a direct conversation with them. */
import { get, qs } from "../lib/api";
import { debounce, h } from "../lib/dom";
import { presence } from "../lib/format";
import type { User } from "../lib/types";
import type { ChatClient } from "../chat/client";
import { avatar } from "./avatar";
import { errorBox, paneHead, spinner, type View } from "./common";

export function peopleView(client: ChatClient): View {
  const s = client.store;
  const input = h("input", { id: "people-search", "data-search": true, type: "search", placeholder: "Search by username or name", autocomplete: "off", maxlength: 64 });
  const results = h("ul", { class: "card-list", "aria-label": "People", "aria-live": "polite" });
  let seq = 0;

  async function search() {
    const mine = ++seq;
    results.replaceChildren(spinner("Searching…"));
    try {
      const { users } = await get<{ users: User[] }>(`/users${qs({ search: input.value.trim(), limit: 30 })}`);
      if (mine !== seq) return;
      const others = users.filter((u) => u.id !== s.me.id);
      if (!others.length) return results.replaceChildren(h("li", { class: "empty" }, "Nobody found."));
      results.replaceChildren(...others.map(row));
    } catch (err) {
      if (mine === seq) results.replaceChildren(errorBox((err as Error).message));
    }
  }

  function row(u: User): HTMLElement {
    const name = u.display_name || u.username;
    const existing = s.directWith(u.id);
    return h("li", { class: "card person" },
      avatar(u.id, name, { online: !!u.online, url: u.avatar_url }),
      h("div", { class: "card-main" },
        h("div", { class: "card-title" }, name, " ", h("span", { class: "muted" }, `@${u.username}`)),
        h("div", { class: "card-sub" }, presence(u.online, u.last_active)),
      ),
      h("a", { class: "button", href: existing ? `#/c/${existing.id}` : `#/dm/${u.id}`, "data-user": u.username, "aria-label": `Message ${name}` }, "Message"),
    );
  }

  input.addEventListener("input", debounce(() => void search(), 250));
  const el = h("section", { class: "pane page", "aria-label": "People" },
    paneHead("People", "Find someone and start a conversation"),
    h("div", { class: "page-body" },
      h("div", { class: "field" }, h("label", { for: "people-search" }, "Search people"), input),
      results,
    ),
  );
  void search();
  queueMicrotask(() => input.focus());
  return { el };
}
