/**
 * One conversation (or a draft direct conversation with someone not yet
 * written to): header, message list with upward infinite scroll, typing line
 * and the composer (Enter sends, Shift+Enter is a new line).
 */
import { get } from "../lib/api";
import { h, icon, ICONS } from "../lib/dom";
import { presence } from "../lib/format";
import type { Room, User } from "../lib/types";
import type { ChatClient } from "../chat/client";
import type { Change } from "../chat/store";
import { avatar } from "./avatar";
import { MessageList } from "./messages";
import { UploadTray } from "../lib/upload";
import { backButton, toast, type View } from "./common";
import { drafts } from "../lib/drafts";
import { openRoomInfo } from "./room-info";
import { conversationOptions } from "./conversation-options";
import { mentionPicker, type Candidate } from "./mention-picker";

const MAX_CONTENT = 4000;

/** `at`: a seq to open the conversation at (a search result), loading older pages until it is there. */
export function conversationView(client: ChatClient, target: { id: string } | { peer: string }, at?: number): View {
  const s = client.store;
  const id = "id" in target ? target.id : null;
  const peerId = "peer" in target ? target.peer : null;
  const isRoom = () => !!id && s.convs.get(id)?.kind === "room";
  const list = new MessageList(client, id, peerId, isRoom);
  let roomLoaded = false;
  const title = h("h2", { class: "pane-title" });
  const subtitle = h("div", { class: "pane-sub" });
  const who = h("div", { class: "who" });
  const typingLine = h("div", { class: "typing", "aria-live": "polite" });
  const input = h("textarea", { id: "composer-input", rows: 1, maxlength: MAX_CONTENT * 2, placeholder: "Write a message…", autocomplete: "off", "aria-describedby": "composer-too-long" });
  // Registered before the composer's own keys: Enter picks a name while the list is open.
  const roster = new Map<string, Candidate>();
  const picker = mentionPicker(input, () => [...roster.values()].filter((c) => c.id !== s.me.id));
  const counter = h("span", { class: "counter", "aria-live": "polite" });
  // Why Enter does nothing past the limit: the counter alone only turns red.
  const tooLong = h("div", { id: "composer-too-long", class: "composer-hint", hidden: true });
  // In a draft the first upload names the person; the server opens the conversation (lib/upload.ts).
  const uploads = id ? UploadTray.adopt(client, id) : new UploadTray(client, { to: peerId! });
  const form = h("form", { class: "composer", onsubmit: (e: Event) => (e.preventDefault(), submit()) },
    h("label", { class: "sr-only", for: "composer-input" }, "Message"),
    uploads.button, uploads.input, input, counter,
    h("button", { type: "submit", class: "send", "aria-label": "Send message", title: "Send (Enter)" }, icon(ICONS.send)),
  );
  // Members, invitations and leaving live in the room's dialog (views/room-info.ts).
  const roomButton = h("button", { type: "button", class: "room-info-btn", hidden: true, onclick: () => {
    // Invitations change the member count in the header.
    if (!id) return;
    const dialog = openRoomInfo(client, id);
    dialog.addEventListener("close", () => dialog.dataset.left || loadRoom(id));
  } }, "Members");
  // Shown instead of the composer once I am out of the room (left elsewhere, removed, room deleted).
  const leftNotice = h("p", { class: "left-notice", role: "status", hidden: true });
  const draft = drafts(s.me.id, id ?? `dm:${peerId}`);
  const el = h("section", { class: "pane conversation", "aria-label": "Conversation" },
    h("header", { class: "pane-head" }, backButton(), who, h("div", { class: "titles" }, title, subtitle), id ? conversationOptions(client, id) : null, roomButton),
    list.el, list.jump, typingLine, uploads.el, tooLong, picker.el, form, leftNotice);

  const LEFT_TEXT = { left: "You left this room.", removed: "You were removed from this room.", deleted: "This room was deleted." };
  function renderHeader() {
    const gone = id ? s.left.get(id) : undefined;
    if (gone) {
      subtitle.textContent = "";
      roomButton.hidden = true;
      form.hidden = true;
      uploads.el.hidden = true;
      leftNotice.hidden = false;
      leftNotice.replaceChildren(LEFT_TEXT[gone], " ", h("a", { href: "#/rooms" }, "Browse rooms"));
      return;
    }
    form.hidden = false;
    uploads.el.hidden = false;
    leftNotice.hidden = true;
    const c = id ? s.convs.get(id) : undefined;
    if (c) list.setUnreadAfter(c.unread > 0 ? c.last_read_seq : null);
    if (c?.kind === "room") {
      title.textContent = c.name ?? "room";
      who.replaceChildren(avatar(c.id, c.name ?? "#", { room: true }));
      input.placeholder = `Message #${c.name ?? "room"}`;
      roomButton.hidden = false;
      roomButton.setAttribute("aria-label", `Members and settings of #${c.name ?? "room"}`);
      if (!roomLoaded) loadRoom(c.id);
    } else if (c?.peer) {
      const name = c.peer.display_name || c.peer.username;
      roster.set(c.peer.id, { id: c.peer.id, username: c.peer.username, name });
      title.textContent = name;
      subtitle.textContent = presence(c.peer.online, c.peer.last_active);
      who.replaceChildren(avatar(c.peer.id, name, { online: c.peer.online, url: c.peer.avatar_url }));
      input.placeholder = `Message ${name}`;
    }
  }

  const members = new Set<string>();
  function loadRoom(roomId: string) {
    roomLoaded = true;
    void get<Room>(`/rooms/${roomId}`).then((r) => {
      roster.clear();
      const mine = r.members?.find((m) => m.user_id === s.me.id)?.role;
      if (list.moderator !== (mine === "owner" || mine === "admin")) {
        list.moderator = !list.moderator;
        list.render();
      }
      for (const m of r.members ?? []) {
        members.add(m.user_id);
        roster.set(m.user_id, { id: m.user_id, username: m.username, name: m.display_name || m.username });
        s.names.set(m.user_id, m.display_name || m.username);
      }
      subtitle.textContent = `${r.member_count} member${r.member_count === 1 ? "" : "s"}${r.description ? ` · ${r.description}` : ""}`;
      list.refreshNames();
    }).catch(() => {});
  }

  function renderTyping() {
    const names = id ? s.typists(id) : [];
    typingLine.textContent = names.length === 0 ? "" : names.length === 1 ? `${names[0]} is typing…` : `${names.join(", ")} are typing…`;
  }

  function submit() {
    const content = input.value.trim();
    if (content.length > MAX_CONTENT) return explainTooLong(true);
    if (!content || (id && s.left.has(id))) return;
    client.send(id ? { conversation_id: id } : { to: peerId! }, content);
    input.value = "";
    draft.clear();
    resize();
    list.render("bottom");
  }

  function resize() {
    input.style.height = "auto";
    input.style.height = `${Math.min(input.scrollHeight, 160)}px`;
    const n = input.value.trim().length;
    counter.textContent = n > MAX_CONTENT - 300 ? `${n}/${MAX_CONTENT}` : "";
    counter.classList.toggle("over", n > MAX_CONTENT);
    explainTooLong(false);
  }

  /** Shown while the text is over the limit; after a refused Enter it is announced (role=alert). */
  function explainTooLong(refused: boolean) {
    const over = input.value.trim().length - MAX_CONTENT;
    tooLong.hidden = over <= 0;
    input.setAttribute("aria-invalid", String(over > 0));
    if (over <= 0) return void (tooLong.textContent = "", tooLong.removeAttribute("role"));
    const limit = MAX_CONTENT.toLocaleString();
    tooLong.textContent = refused
      ? `Not sent: a message can be at most ${limit} characters and this one is ${over.toLocaleString()} over. Shorten it or split it into several messages.`
      : `Too long to send: ${over.toLocaleString()} character${over === 1 ? "" : "s"} over the ${limit}-character limit.`;
    if (refused) tooLong.setAttribute("role", "alert");
  }

  input.addEventListener("keydown", (e) => {
    if (e.key === "Enter" && !e.shiftKey && !e.isComposing) {
      e.preventDefault();
      submit();
    } else if (e.key === "ArrowUp" && !input.value && list.editLast()) e.preventDefault();
  });
  input.addEventListener("input", () => {
    draft.save(input.value);
    resize();
    if (id && input.value.trim()) client.typing(id);
  });

  let loadFailed = false;
  async function loadOlder() {
    if (!id || loadFailed) return;
    const t = s.thread(id);
    if (t.loading || (t.loaded && !t.hasMore)) return;
    const first = !t.loaded;
    const p = s.loadOlder(id);
    list.render("keep");
    try {
      await p;
    } catch (err) {
      loadFailed = true;
      return list.showError(`Could not load messages: ${(err as Error).message}`);
    }
    list.render(first ? "bottom" : "prepend");
    // Opening a busy conversation starts at what is new, not below it.
    if (first && at) await reveal(at);
    else if (first) list.showFirstUnread();
    // Keep loading until the pane can scroll, so the scroll-up trigger can fire.
    if (t.hasMore && list.el.scrollHeight <= list.el.clientHeight) void loadOlder();
    markRead();
  }
  /** Loads older pages until message `seq` is there (or the beginning is), then shows it. */
  async function reveal(seq: number) {
    const t = s.thread(id!);
    for (let pages = 0; t.hasMore && (t.oldest ?? Infinity) > seq && pages < 40; pages++) {
      await s.loadOlder(id!).catch(() => {});
      list.render("prepend");
    }
    if (!list.highlight(seq)) toast("That message is no longer here.");
  }
  list.el.addEventListener("scroll", () => {
    if (list.el.scrollTop < 120) void loadOlder();
  });

  function markRead() {
    if (id && s.isWatching(id)) client.markRead(id);
  }

  let seenSystem = 0;
  const onChange = (c: Change) => {
    if (c.type === "convs") {
      if (!id && peerId) {
        const existing = s.directWith(peerId);
        if (existing) location.replace(`#/c/${existing.id}`);
      }
      renderHeader();
    } else if ((c.type === "thread" && c.id === id) || c.type === "pending" || (c.type === "read" && c.id === id)) {
      list.render();
      if (c.type === "thread") {
        markRead();
        // Someone new spoke in the room: the member count in the header is stale.
        const c = id ? s.convs.get(id) : undefined;
        const last = c?.last_message;
        if (isRoom() && roomLoaded && last && !members.has(last.sender_id)) {
          members.add(last.sender_id);
          loadRoom(id!);
        }
        // Someone joined, left or was removed, or the room changed: the header is stale.
        const sys = last?.message_type === "system" ? last.system : undefined;
        if (c && sys && sys.kind !== "room_created" && seenSystem !== last!.seq) {
          seenSystem = last!.seq;
          if (sys.name) c.name = sys.name;
          renderHeader();
          loadRoom(id!);
        }
      }
    } else if (c.type === "typing" && c.id === id) renderTyping();
  };
  const unsubscribe = s.subscribe(onChange);
  document.addEventListener("visibilitychange", markRead);

  s.active = id;
  renderHeader();
  list.render("bottom");
  if (id) {
    void loadOlder();
  } else if (peerId) {
    void get<User>(`/users/${peerId}`).then((u) => {
      const name = u.display_name || u.username;
      title.textContent = name;
      subtitle.textContent = `${presence(u.online, u.last_active)} · new conversation`;
      who.replaceChildren(avatar(u.id, name, { online: u.online, url: u.avatar_url }));
      input.placeholder = `Message ${name}`;
    }).catch(() => (title.textContent = "Unknown user"));
  }
  input.value = draft.load();
  if (input.value) queueMicrotask(resize);
  queueMicrotask(() => input.focus());

  return {
    el,
    destroy() {
      unsubscribe();
      uploads.release();
      list.destroy();
      document.removeEventListener("visibilitychange", markRead);
      if (s.active === id) s.active = null;
    },
  };
}
