/**
 * The notifications bell: a count of unread notifications and a panel that
 * lists them (mentions and direct messages). Stored ones come from
 * GET /notifications (written while I was offline); `notification` frames
 * (sent while I am online, never stored) are kept here for this session and
 * count as unread until the panel is opened. While the tab is hidden a frame
 * also shows a browser notification, once the user allowed them with the
 * panel's button (browsers want that asked on a click).
 */
import { get, post } from "../lib/api";
import { h } from "../lib/dom";
import { listTime } from "../lib/format";
import type { ChatClient } from "../chat/client";
import { errorBox, spinner } from "./common";

type Sender = { id: string; username: string; display_name: string | null } | null;
export type Note = { id?: string; kind: "mention" | "direct"; conversation_id: string; seq: number; sender: Sender; excerpt: string; created_at: string; read_at?: string | null };

const who = (n: Note) => n.sender ? (n.sender.display_name || n.sender.username) : "Someone";
const title = (n: Note) => n.kind === "mention" ? `${who(n)} mentioned you` : `${who(n)} wrote to you`;
const link = (n: Note) => `#/c/${n.conversation_id}/${n.seq}`;

export function notificationBell(client: ChatClient, storedUnread: () => Promise<number>) {
  let stored = 0;
  const live: Note[] = [];
  let liveUnread = 0;
  const badge = h("span", { class: "bell-badge", hidden: true });
  const button = h("button", { type: "button", class: "icon-btn bell", "aria-haspopup": "dialog", "aria-expanded": "false" }, "🔔", badge);
  const body = h("div", { class: "bell-body" });
  const panel = h("div", { class: "bell-panel", role: "dialog", "aria-label": "Notifications", hidden: true }, body);
  const el = h("div", { class: "bell-wrap" }, button, panel);

  function renderCount() {
    const n = stored + liveUnread;
    badge.hidden = n === 0;
    badge.textContent = n > 99 ? "99+" : String(n);
    button.setAttribute("aria-label", n ? `Notifications, ${n} unread` : "Notifications");
    button.title = button.getAttribute("aria-label")!;
  }

  // Answers can arrive out of order (a reconnect's count, the panel's page, a mark-read): only the newest counts.
  let asked = 0;
  function answer() {
    const mine = ++asked;
    return (n: number) => {
      if (mine === asked) (stored = n), renderCount();
    };
  }

  function item(n: Note, unread: boolean): HTMLElement {
    const a = h("a", { href: link(n), class: `note${unread ? " unread" : ""}` },
      h("span", { class: "note-title" }, title(n)), h("span", { class: "note-excerpt" }, n.excerpt),
      h("time", { class: "muted", datetime: n.created_at }, listTime(n.created_at)));
    a.addEventListener("click", () => {
      close();
      if (n.id && unread) {
        const count = answer();
        void post<{ unread_count: number }>("/notifications/read", { ids: [n.id] }).then((r) => count(r.unread_count)).catch(() => {});
      }
    });
    return h("li", null, a);
  }

  async function open() {
    panel.hidden = false;
    button.setAttribute("aria-expanded", "true");
    body.replaceChildren(spinner());
    liveUnread = 0;
    renderCount();
    const count = answer();
    try {
      const page = await get<{ notifications: Note[]; unread_count: number }>("/notifications?limit=30");
      count(page.unread_count);
      const all = [...live.map((n) => ({ n, unread: false })), ...page.notifications.map((n) => ({ n, unread: !n.read_at }))];
      const markAll = h("button", { type: "button", class: "link", hidden: stored === 0, onclick: () => void readAll(markAll) }, "Mark all as read");
      body.replaceChildren(
        h("div", { class: "bell-head" }, h("strong", null, "Notifications"), markAll),
        all.length ? h("ul", { class: "note-list" }, all.map(({ n, unread }) => item(n, unread))) : h("p", { class: "muted" }, "Nothing yet. Mentions and direct messages show up here."),
        ...[permissionBox()].filter((x): x is HTMLElement => !!x));
    } catch (err) {
      body.replaceChildren(errorBox((err as Error).message));
    }
  }

  async function readAll(b: HTMLButtonElement) {
    const count = answer();
    try {
      count((await post<{ unread_count: number }>("/notifications/read", { all: true })).unread_count);
      b.hidden = true;
      for (const a of body.querySelectorAll(".note.unread")) a.classList.remove("unread");
    } catch {}
  }

  function permissionBox(): HTMLElement | null {
    if (!("Notification" in window) || Notification.permission !== "default") return null;
    const ask = h("button", { type: "button" }, "Notify me on this device");
    ask.addEventListener("click", () => void Notification.requestPermission().then(() => ask.parentElement?.remove()));
    return h("p", { class: "bell-permission" }, "Get a notice for mentions and direct messages while Huddle is in the background. ", ask);
  }

  function close() {
    panel.hidden = true;
    button.setAttribute("aria-expanded", "false");
  }

  button.addEventListener("click", () => (panel.hidden ? void open() : close()));
  panel.addEventListener("keydown", (e) => {
    if (e.key === "Escape") (close(), button.focus());
  });
  document.addEventListener("click", (e) => {
    if (!panel.hidden && !el.contains(e.target as Node)) close();
  });

  const fetchStored = () => void storedUnread().then(answer()).catch(() => {});

  client.onFrame$((f) => {
    // Each (re)connect: what was stored while no socket of mine was up (the worker saw me offline) is counted again.
    if (f.type === "ready") return fetchStored();
    if (f.type !== "notification") return;
    const n = f.notification as Note;
    live.unshift(n);
    liveUnread++;
    renderCount();
    if (!panel.hidden) void open();
    if (document.visibilityState === "hidden" && "Notification" in window && Notification.permission === "granted") {
      const shown = new Notification(title(n), { body: n.excerpt, tag: `${n.conversation_id}:${n.seq}` });
      shown.onclick = () => (window.focus(), (location.hash = link(n)), shown.close());
    }
  });

  fetchStored();
  renderCount();
  return el;
}
