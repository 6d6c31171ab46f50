/**
 * Editing and deleting one's own messages (and, for a room's owner or admins,
 * deleting anyone's), in place: a "More actions" button
 * on the bubble opens Edit / Delete; Edit swaps the text for an editor (Enter
 * saves, Esc cancels), Delete asks once more before it goes. The socket's
 * edit/delete entries then redraw the message (chat/store.ts); the HTTP reply
 * is applied too, so a slow socket does not leave the old text on screen.
 */
import { api } from "../lib/api";
import { h } from "../lib/dom";
import type { Message } from "../lib/types";
import type { ChatClient } from "../chat/client";
import { busy, toast } from "./common";

/** Whether I may change `m`: my own text or file message that still stands, or (a room's owner or admin) anyone's. */
export const canChange = (client: ChatClient, m: Message, moderator = false) =>
  (moderator || m.sender_id === client.store.me.id) && !m.deleted && (m.message_type === "text" || m.message_type === "file");

/** The actions bar of one message; `node` is the message's element. */
export function messageActions(client: ChatClient, m: Message, node: HTMLElement): HTMLElement {
  const more = h("button", { type: "button", class: "msg-more icon-btn", "aria-label": "More actions", "aria-expanded": "false", title: "More actions" }, "⋯");
  const edit = h("button", { type: "button", class: "link", onclick: () => (close(), startEdit(client, m, node)) }, "Edit");
  const del = h("button", { type: "button", class: "link danger-link", onclick: () => (close(), confirmDelete(client, m, node)) }, "Delete");
  // Only the sender edits; a room's owner or admin may delete others' messages too.
  const mine = m.sender_id === client.store.me.id;
  const menu = h("div", { class: "msg-menu", hidden: true }, mine && m.message_type === "text" ? edit : null, del);
  const close = () => {
    menu.hidden = true;
    more.setAttribute("aria-expanded", "false");
  };
  more.addEventListener("click", () => {
    menu.hidden = !menu.hidden;
    more.setAttribute("aria-expanded", String(!menu.hidden));
  });
  menu.addEventListener("keydown", (e) => {
    if (e.key === "Escape") (close(), more.focus());
  });
  return h("div", { class: "msg-tools" }, more, menu);
}

function applyReply(client: ChatClient, m: Message) {
  const t = client.store.thread(m.conversation_id);
  const cur = t.msgs.get(m.seq);
  if (!cur || cur.deleted) return;
  t.msgs.set(m.seq, m);
  client.store.emit({ type: "thread", id: m.conversation_id });
}

/** Swaps the message's text for an editor. */
export function startEdit(client: ChatClient, m: Message, node: HTMLElement) {
  const text = node.querySelector<HTMLElement>(".bubble > .text");
  if (!text || node.querySelector(".msg-editor")) return node.querySelector<HTMLTextAreaElement>(".msg-editor textarea")?.focus();
  const input = h("textarea", { class: "edit-input", rows: 2, maxlength: 8000, "aria-label": "Edit message" });
  input.value = m.content;
  const save = h("button", { type: "submit", class: "primary" }, "Save");
  const cancel = h("button", { type: "button", onclick: () => done() }, "Cancel");
  const form = h("form", { class: "msg-editor" }, input, h("div", { class: "msg-editor-actions" }, h("span", { class: "muted" }, "Enter to save · Esc to cancel"), cancel, save));
  const done = () => {
    form.remove();
    text.hidden = false;
    document.getElementById("composer-input")?.focus();
  };
  form.addEventListener("submit", (e) => {
    e.preventDefault();
    const content = input.value.trim();
    if (!content) return confirmDelete(client, m, node, done);
    if (content === m.content) return done();
    void busy(save, async () => {
      try {
        const { message } = await api<{ message: Message }>("PATCH", `/chat/messages/${m.id}`, { content });
        done();
        applyReply(client, message);
      } catch (err) {
        toast(`Not edited: ${(err as Error).message}`);
      }
    });
  });
  input.addEventListener("keydown", (e) => {
    if (e.key === "Enter" && !e.shiftKey && !e.isComposing) (e.preventDefault(), form.requestSubmit());
    else if (e.key === "Escape") (e.preventDefault(), e.stopPropagation(), done());
  });
  text.hidden = true;
  text.after(form);
  input.focus();
  input.setSelectionRange(input.value.length, input.value.length);
}

/** Asks before deleting: a message cannot come back. */
export function confirmDelete(client: ChatClient, m: Message, node: HTMLElement, after?: () => void) {
  const bubble = node.querySelector<HTMLElement>(".bubble");
  if (!bubble || node.querySelector(".msg-confirm")) return;
  const yes = h("button", { type: "button", class: "danger" }, "Delete");
  const no = h("button", { type: "button" }, "Cancel");
  const box = h("div", { class: "msg-confirm", role: "alertdialog", "aria-label": "Delete message" },
    h("span", null, "Delete this message for everyone?"), " ", yes, " ", no);
  const finish = () => (box.remove(), after?.());
  no.addEventListener("click", () => (finish(), document.getElementById("composer-input")?.focus()));
  box.addEventListener("keydown", (e) => {
    if (e.key === "Escape") (e.stopPropagation(), no.click());
  });
  yes.addEventListener("click", () => void busy(yes, async () => {
    try {
      const { message } = await api<{ message: Message }>("DELETE", `/chat/messages/${m.id}`);
      finish();
      applyReply(client, message);
      document.getElementById("composer-input")?.focus();
    } catch (err) {
      toast(`Not deleted: ${(err as Error).message}`);
    }
  }));
  bubble.after(box);
  yes.focus();
}
