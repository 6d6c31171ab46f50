/**
 * The left column: brand, connection state, the account menu, section tabs
 * and the conversation list (unread badges, online dots, last message).
 */
import { h, icon, ICONS } from "../lib/dom";
import { listTime } from "../lib/format";
import type { Conversation, Message, User } from "../lib/types";
import type { ChatClient } from "../chat/client";
import type { SocketStatus } from "../lib/socket";
import { avatar } from "./avatar";
import { logo } from "./common";
import { parseFileContent } from "./attachment";
import { notificationBell } from "./notifications";
import { get } from "../lib/api";

const TABS = [
  { href: "#/", label: "Chats", icon: ICONS.chat, match: /^#\/(c|dm)?\/?/ },
  { href: "#/rooms", label: "Rooms", icon: ICONS.rooms, match: /^#\/rooms/ },
  { href: "#/people", label: "People", icon: ICONS.people, match: /^#\/people/ },
  { href: "#/problems", label: "SQL", icon: ICONS.code, match: /^#\/(problems|submissions)/ },
];

export function sidebar(client: ChatClient, onLogout: () => void) {
  const s = client.store;
  const me = s.me;
  const status = h("span", { class: "status", role: "status", "aria-live": "polite" });
  const list = h("ul", { class: "conv-list", "aria-label": "Conversations" });
  const filter = h("input", { id: "conv-filter", type: "search", class: "conv-filter", placeholder: "Search conversations  ( / )", autocomplete: "off", maxlength: 80, "aria-label": "Search conversations" });
  filter.addEventListener("input", () => renderList());
  // Enter searches the messages themselves (views/search.ts).
  filter.addEventListener("keydown", (e) => {
    if (e.key === "Enter" && filter.value.trim()) location.hash = `#/search/${encodeURIComponent(filter.value.trim())}`;
  });
  /** What the list shows, in order (Alt+Up/Down walks it). */
  let shown: Conversation[] = [];
  const tabs = TABS.map((t) => h("a", { href: t.href, class: "tab" }, icon(t.icon), h("span", null, t.label)));
  const el = h("aside", { class: "sidebar", "aria-label": "Navigation" },
    h("div", { class: "side-head" },
      h("div", { class: "brand" }, logo(), h("span", null, "Huddle")),
      status,
      notificationBell(client, () => get<User>("/users/me").then((u) => u.unread_notifications ?? 0)),
      h("button", { type: "button", class: "icon-btn", "aria-label": "Sign out", title: "Sign out", onclick: onLogout }, icon(ICONS.logout)),
    ),
    h("a", { class: "me", href: "#/profile", title: "Your profile" }, avatar(me.id, me.display_name || me.username, { size: "sm", url: me.avatar_url }), h("span", { class: "me-name" }, me.display_name || me.username), h("span", { class: "me-handle" }, `@${me.username}`)),
    h("nav", { class: "tabs-nav", "aria-label": "Sections" }, tabs),
    h("div", { class: "list-head" }, h("span", null, "Conversations"), h("a", { href: "#/people", class: "icon-btn", "aria-label": "New direct message", title: "New direct message" }, icon(ICONS.plus))),
    h("div", { class: "conv-filter-wrap" }, filter),
    list,
  );

  const nameOf = (c: Conversation) => (c.kind === "room" ? (c.name ?? "room") : (c.peer?.display_name || c.peer?.username || "unknown"));

  function row(c: Conversation): HTMLElement {
    const name = nameOf(c);
    const last = c.last_message;
    const preview = last ? `${last.sender_id === me.id ? "You: " : c.kind === "room" ? `${s.nameOf(last.sender_id)}: ` : ""}${lastText(last)}` : c.kind === "room" ? "No messages yet" : "Say hello";
    // Also when opened at a message (#/c/{id}/{seq}).
    const current = location.hash === `#/c/${c.id}` || location.hash.startsWith(`#/c/${c.id}/`);
    return h("li", null, h("a", { href: `#/c/${c.id}`, class: `conv${c.unread ? " unread" : ""}`, "aria-current": current ? "page" : null, "data-id": c.id },
      avatar(c.kind === "room" ? c.id : (c.peer?.id ?? c.id), name, { room: c.kind === "room", online: c.kind === "direct" ? !!c.peer?.online : undefined, url: c.peer?.avatar_url }),
      h("span", { class: "conv-main" },
        h("span", { class: "conv-top" }, h("span", { class: "conv-name" }, name), h("time", { class: "conv-time", datetime: c.last_activity }, listTime(c.last_activity))),
        h("span", { class: "conv-bottom" }, h("span", { class: "conv-preview" }, preview),
          c.unread ? h("span", { class: "badge", "aria-label": `${c.unread} unread` }, c.unread > 99 ? "99+" : String(c.unread)) : null),
      ),
    ));
  }

  function renderList() {
    const term = filter.value.trim().toLowerCase();
    const all = s.sorted();
    const convs = term ? all.filter((c) => nameOf(c).toLowerCase().includes(term) || (c.peer?.username ?? "").toLowerCase().includes(term)) : all;
    shown = convs;
    if (!s.convsLoaded) list.replaceChildren(h("li", { class: "empty" }, "Loading…"));
    else if (!convs.length && term) list.replaceChildren(h("li", { class: "empty" }, `No conversation matches “${filter.value.trim()}”.`));
    else if (!convs.length) list.replaceChildren(h("li", { class: "empty" }, "No conversations yet. Find someone in ", h("a", { href: "#/people" }, "People"), " or join a ", h("a", { href: "#/rooms" }, "room"), "."));
    else list.replaceChildren(...convs.map(row));
    if (term) list.prepend(h("li", null, h("a", { class: "search-link", href: `#/search/${encodeURIComponent(filter.value.trim())}` }, `Search messages for “${filter.value.trim()}”`)));
    const n = s.totalUnread();
    document.title = n ? `(${n}) Huddle` : "Huddle";
  }

  function renderTabs() {
    const hash = location.hash || "#/";
    let active = TABS.findIndex((t, i) => i > 0 && t.match.test(hash));
    if (active < 0) active = 0;
    tabs.forEach((a, i) => a.setAttribute("aria-current", i === active ? "page" : "false"));
  }

  function renderStatus(st: SocketStatus) {
    status.className = `status ${st}`;
    status.textContent = st === "open" ? "" : st === "connecting" ? "Connecting…" : "Offline";
    status.title = st === "open" ? "Connected" : st === "connecting" ? "Connecting to the server" : "Reconnecting soon";
  }

  s.subscribe((c) => {
    if (c.type === "convs") renderList();
  });
  client.onStatus(renderStatus);
  renderStatus(client.socket.status);
  renderList();
  renderTabs();
  return { el, onRoute: () => (renderTabs(), renderList()), visibleIds: () => shown.map((c) => c.id) };
}

/** A file message previews as its name, not the JSON the server stores. */
function lastText(m: Message): string {
  if (m.message_type !== "file") return m.content;
  const f = parseFileContent(m.content);
  return f ? `📎 ${f.name}` : m.content;
}
