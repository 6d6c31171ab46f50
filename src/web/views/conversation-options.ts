/**
 * The conversation's options in its header: mute, and clear my history
 * (DELETE /chat/conversations/{id}/history; for me only, after a confirm).
 * The server then sends `conversation.cleared` to my sockets, which empties
 * the view here and on my other devices (chat/store.ts).
 */
import { api } from "../lib/api";
import { h } from "../lib/dom";
import type { ChatClient } from "../chat/client";
import { busy, toast } from "./common";
import { muteButton } from "./mute";

export function conversationOptions(client: ChatClient, id: string): HTMLElement {
  const clear = h("button", { type: "button", class: "link danger-link" }, "Clear my history");
  const box = h("div", { class: "conv-options-body" }, muteButton(client.store.me.id, id), clear);
  clear.addEventListener("click", () => {
    const yes = h("button", { type: "button", class: "danger" }, "Clear");
    const no = h("button", { type: "button" }, "Cancel");
    const ask = h("div", { class: "clear-confirm" }, h("p", { role: "alert" }, "Clear every message here from your view? Others keep theirs."), yes, " ", no);
    clear.hidden = true;
    box.append(ask);
    no.addEventListener("click", () => (ask.remove(), (clear.hidden = false), clear.focus()));
    yes.addEventListener("click", () => void busy(yes, async () => {
      try {
        const r = await api<{ cleared_seq: number }>("DELETE", `/chat/conversations/${id}/history`);
        client.store.clearedUpTo(id, r.cleared_seq);
        ask.remove();
        clear.hidden = false;
        details.open = false;
        toast("History cleared");
      } catch (err) {
        toast((err as Error).message);
      }
    }));
    yes.focus();
  });
  const details = h("details", { class: "conv-options" }, h("summary", { "aria-label": "Conversation options", title: "Conversation options" }, "⋯"), box);
  return details;
}
