/**
 * The message list of one conversation. Elements are created once per message
 * (keyed by seq, or by client_id while waiting for the server) and reordered
 * on each render, so scrolling and focus survive updates. Content is text.
 */
import { h } from "../lib/dom";
import { clock, dayKey, dayLabel, fullDate } from "../lib/format";
import type { Message } from "../lib/types";
import type { ChatClient } from "../chat/client";
import type { Pending } from "../chat/store";
import { Attachments } from "./attachment";
import { LIMITED } from "./wait";
import { richText } from "../lib/rich-text";
import { canChange, messageActions, startEdit } from "./message-actions";

type Item = {
  key: string; sender: string; at: string; content: string; seq: number | null; type?: Message["message_type"]; pending?: Pending;
  edited?: boolean; deleted?: boolean; msg?: Message;
};

const GROUP_MS = 5 * 60_000;

export class MessageList {
  readonly el: HTMLElement;
  private readonly top: HTMLElement;
  private readonly nodes = new Map<string, HTMLElement>();
  private readonly seen = h("div", { class: "seen" }, "Seen");
  /** Drawn above the first message that was unread when the conversation was opened. */
  private readonly newLine = h("div", { class: "new-line", role: "separator", "aria-label": "New messages" }, "New messages");
  /** Unread messages are those after this seq (captured once, before reading moves the marker); null: none. */
  private unreadAfter: number | null | undefined;
  /** Shown while scrolled up: back to the newest message. */
  readonly jump = h("button", { type: "button", class: "jump-latest", hidden: true }, "↓ Jump to latest");
  /** Blob URLs of this conversation's files, freed by destroy(). */
  private readonly attachments = new Attachments();
  private error = "";
  /** I am an owner or admin of this room: I may delete anyone's message (set once the room is loaded). */
  moderator = false;
  /** Some sender names were still being looked up when drawn. */
  private unnamed = false;

  constructor(private readonly client: ChatClient, private readonly conversationId: string | null, private readonly draftPeer: string | null, private readonly isRoom: () => boolean) {
    this.top = h("div", { class: "history-edge" });
    this.el = h("div", { class: "messages", role: "log", "aria-label": "Messages", tabindex: "0" }, this.top);
    this.jump.addEventListener("click", () => {
      this.el.scrollTop = this.el.scrollHeight;
      this.updateJump();
    });
    this.el.addEventListener("scroll", () => this.updateJump());
  }

  /** Remembers where unread messages began; only the first call counts. */
  setUnreadAfter(seq: number | null) {
    if (this.unreadAfter === undefined) this.unreadAfter = seq;
  }

  private updateJump() {
    const el = this.el;
    this.jump.hidden = el.scrollHeight - el.scrollTop - el.clientHeight < 200;
  }

  /** Scrolls the "New messages" line into view; false when there is none. */
  showFirstUnread(): boolean {
    if (!this.newLine.isConnected) return false;
    this.el.scrollTop = Math.max(0, this.newLine.offsetTop - this.el.offsetTop - 40);
    this.updateJump();
    return true;
  }

  private items(): Item[] {
    const s = this.client.store;
    const out: Item[] = [];
    if (this.conversationId) {
      const t = s.thread(this.conversationId);
      const msgs = [...t.msgs.values()].sort((a, b) => a.seq - b.seq);
      // Edit and delete entries are already applied to the messages they name (store.ts): not drawn.
      for (const m of msgs) if (m.message_type !== "edit" && m.message_type !== "delete") out.push(this.fromMessage(m));
    }
    for (const p of s.pending.values()) {
      const mine = this.conversationId ? p.conversation_id === this.conversationId : p.to === this.draftPeer && !p.conversation_id;
      if (mine) out.push({ key: `p:${p.client_id}`, sender: s.me.id, at: p.created, content: p.content, seq: null, pending: p });
    }
    return out;
  }

  private fromMessage(m: Message): Item {
    // The key changes with an edit or a delete, so the element is drawn again.
    // Also when I become a moderator: others' messages then get a Delete action.
    const version = (m.deleted ? ":deleted" : m.edited_at ? `:${m.edited_at}` : "") + (this.moderator && m.sender_id !== this.client.store.me.id ? ":mod" : "");
    return {
      key: `s:${m.seq}${version}`, sender: m.sender_id, at: m.timestamp, content: m.content, seq: m.seq, type: m.message_type,
      edited: !!m.is_edited, deleted: !!m.deleted, msg: m,
    };
  }

  /** Rebuilds the order; `mode` says how to keep the scroll position. */
  render(mode: "keep" | "bottom" | "prepend" = "keep") {
    const el = this.el;
    const atBottom = el.scrollHeight - el.scrollTop - el.clientHeight < 80;
    const prevHeight = el.scrollHeight;
    const prevTop = el.scrollTop;
    const s = this.client.store;
    const t = this.conversationId ? s.thread(this.conversationId) : null;
    this.top.classList.toggle("error", !!this.error);
    this.top.textContent = this.error ? this.error : !t || (t.loaded && !t.hasMore) ? "This is the beginning of the conversation." : t.loading ? "Loading earlier messages…" : "";
    const children: HTMLElement[] = [this.top];
    const items = this.items();
    const peerRead = this.conversationId ? (s.peerRead.get(this.conversationId) ?? 0) : 0;
    const lastOwnSeen = this.isRoom() ? null : items.filter((i) => i.seq !== null && i.sender === s.me.id && i.seq <= peerRead).at(-1);
    const after = this.unreadAfter;
    const at = after == null ? -1 : items.findIndex((i) => i.seq !== null && i.seq > after && i.sender !== s.me.id);
    // Only where it truly is: the message before it is loaded too (or there is nothing earlier), else it is further up.
    const firstUnread = at > 0 || (at === 0 && !!t?.loaded && !t.hasMore) ? items[at] : undefined;
    let prev: Item | undefined;
    for (const it of items) {
      if (it === firstUnread) children.push(this.newLine);
      if (!prev || dayKey(prev.at) !== dayKey(it.at)) children.push(this.day(it.at));
      const node = this.node(it);
      const grouped = !!prev && prev.sender === it.sender && dayKey(prev.at) === dayKey(it.at) && Date.parse(it.at) - Date.parse(prev.at) < GROUP_MS;
      node.classList.toggle("grouped", grouped);
      children.push(node);
      if (it === lastOwnSeen) children.push(this.seen);
      prev = it;
    }
    el.replaceChildren(...children);
    if (this.unnamed) this.refreshNames();
    if (mode === "prepend") el.scrollTop = prevTop + (el.scrollHeight - prevHeight);
    else if (mode === "bottom" || atBottom) el.scrollTop = el.scrollHeight;
    this.updateJump();
  }

  private day(iso: string): HTMLElement {
    const key = `d:${dayKey(iso)}`;
    let n = this.nodes.get(key);
    if (!n) this.nodes.set(key, (n = h("div", { class: "day", role: "separator" }, h("span", null, dayLabel(iso)))));
    return n;
  }

  private node(it: Item): HTMLElement {
    const s = this.client.store;
    let n = this.nodes.get(it.key);
    if (it.pending) {
      // Pending bubbles change state (sending -> failed), so they are rebuilt.
      n = this.pendingNode(it, it.pending);
      this.nodes.set(it.key, n);
      return n;
    }
    if (n) return n;
    if (it.type === "system") {
      n = h("div", { class: "msg system", "data-seq": it.seq }, h("div", { class: "text" }, `${this.senderName(it.sender)} ${it.content}`));
      this.nodes.set(it.key, n);
      return n;
    }
    const own = it.sender === s.me.id;
    n = h("div", { class: `msg ${own ? "own" : "other"}`, "data-seq": it.seq },
      h("div", { class: "bubble" },
        !own && this.isRoom() ? h("div", { class: "sender" }, this.senderName(it.sender)) : null,
        it.deleted ? h("div", { class: "text deleted" }, "This message was deleted")
          : it.type === "file" ? this.attachments.render(it.content) : h("div", { class: "text" }, richText(it.content)),
        h("div", { class: "meta" }, h("time", { datetime: it.at, title: fullDate(it.at) }, clock(it.at)), it.edited && !it.deleted ? " · edited" : null),
      ),
    );
    if (it.msg && canChange(this.client, it.msg, this.moderator)) n.append(messageActions(this.client, it.msg, n));
    this.nodes.set(it.key, n);
    return n;
  }

  /** Scrolls message `seq` into the middle and marks it for a moment (a search result); false when it is not drawn. */
  highlight(seq: number): boolean {
    const node = this.el.querySelector<HTMLElement>(`.msg[data-seq="${seq}"]`);
    if (!node) return false;
    node.scrollIntoView({ block: "center" });
    node.classList.add("found");
    node.setAttribute("tabindex", "-1");
    node.focus({ preventScroll: true });
    setTimeout(() => node.classList.remove("found"), 4000);
    this.updateJump();
    return true;
  }

  /** Up-arrow in an empty composer: edits my newest text message on screen; false when there is none. */
  editLast(): boolean {
    const mine = this.items().filter((i) => i.msg && i.type === "text" && canChange(this.client, i.msg)).at(-1);
    const node = mine && this.nodes.get(mine.key);
    if (!mine?.msg || !node) return false;
    node.scrollIntoView({ block: "nearest" });
    startEdit(this.client, mine.msg, node);
    return true;
  }

  private pendingNode(it: Item, p: Pending): HTMLElement {
    const failed = p.state === "failed";
    return h("div", { class: `msg own pending${failed ? " failed" : ""}`, "data-client-id": p.client_id },
      h("div", { class: "bubble" },
        h("div", { class: "text" }, it.content),
        h("div", { class: "meta" }, !failed ? "Sending…" : p.retryAt ? LIMITED.send(p.retryAt) : `Not sent: ${p.error ?? "error"}`),
      ),
      failed ? h("div", { class: "msg-actions" },
        h("button", { type: "button", class: "link", onclick: () => this.client.retry(p.client_id) }, "Retry"),
        h("button", { type: "button", class: "link", onclick: () => this.client.discard(p.client_id) }, "Discard"),
      ) : null,
    );
  }

  destroy() {
    this.attachments.dispose();
  }

  showError(message: string) {
    this.error = message;
    this.render();
  }

  private senderName(userId: string): string {
    const name = this.client.store.nameOf(userId);
    if (!this.client.store.names.has(userId)) this.unnamed = true;
    return name;
  }

  /** Fills in sender names that were unknown when their messages were first drawn. */
  refreshNames() {
    this.unnamed = false;
    for (const [key, n] of this.nodes) {
      const sender = n.querySelector(".sender");
      if (!sender || !key.startsWith("s:")) continue;
      const m = this.conversationId ? this.client.store.thread(this.conversationId).msgs.get(Number(key.split(":")[1])) : undefined;
      if (m) sender.textContent = this.senderName(m.sender_id);
    }
  }
}
