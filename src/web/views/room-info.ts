/**
 * A room's details in a dialog: members with role and presence, inviting
 * people by search (owners and admins), and leaving. Esc closes it.
 * Settings, roles, removal and deleting the room are in views/room-admin.ts.
 */
import { get, post, qs } from "../lib/api";
import { debounce, h } from "../lib/dom";
import { presence } from "../lib/format";
import type { Room, User } from "../lib/types";
import type { ChatClient } from "../chat/client";
import { avatar } from "./avatar";
import { busy, errorBox, spinner, toast } from "./common";
import { memberActions, roomActions, type MyRole, type RoomCtx as Ctx, type RoomMember } from "./room-admin";

export type { MyRole, RoomMember };

/** The controls room administration adds: per member (roles, remove), and for the room (settings, delete). */
export const ROOM_HOOKS = { memberActions, roomActions };

const ROLE_ORDER: Record<string, number> = { owner: 0, admin: 1, member: 2 };

export function openRoomInfo(client: ChatClient, roomId: string) {
  const s = client.store;
  const back = document.activeElement as HTMLElement | null;
  const title = h("h2", { id: "room-info-title", class: "dialog-title" }, "Room");
  const close = h("button", { type: "button", class: "icon-btn", "aria-label": "Close" }, "✕");
  const body = h("div", { class: "dialog-body" }, spinner());
  const dialog = h("dialog", { class: "room-info", "aria-labelledby": "room-info-title" },
    h("div", { class: "dialog-head" }, title, close), body);
  /** Presence of the listed members, kept live from the socket's presence frames (sent to rooms too). */
  const presenceOf = new Map<string, (online: boolean, lastActive: string | null) => void>();
  const offPresence = client.onFrame$((f) => {
    if (f.type === "presence") presenceOf.get(f.user_id as string)?.(!!f.online, (f.last_active as string | null) ?? null);
  });
  close.addEventListener("click", () => dialog.close());
  dialog.addEventListener("close", () => {
    offPresence();
    dialog.remove();
    back?.focus();
  });
  document.body.append(dialog);
  dialog.showModal();

  async function reload() {
    try {
      const room = await get<Room>(`/rooms/${roomId}`);
      const members = [...(room.members ?? [])].sort((a, b) => (ROLE_ORDER[a.role]! - ROLE_ORDER[b.role]!) || (a.display_name || a.username).localeCompare(b.display_name || b.username));
      const me = (members.find((m) => m.user_id === s.me.id)?.role ?? "member") as MyRole;
      const ctx: Ctx = { room, me, myId: s.me.id, reload, gone };
      title.textContent = `#${room.name}`;
      body.replaceChildren(
        h("p", { class: "room-about" }, room.is_private ? h("span", { class: "tag" }, "private") : h("span", { class: "tag" }, "public"), " ", room.description ?? ""),
        ...ROOM_HOOKS.roomActions(ctx),
        h("h3", { id: "members-title" }, `${room.member_count} member${room.member_count === 1 ? "" : "s"}`),
        memberList(members, ctx),
        me === "owner" || me === "admin" ? inviteBox(room, members, reload) : h("p", { class: "muted" }, "Only the room's owner and admins can invite people."),
        leaveBox(room, me),
      );
    } catch (err) {
      body.replaceChildren(errorBox((err as Error).message));
    }
  }

  function memberList(members: RoomMember[], ctx: Ctx): HTMLElement {
    const list = h("ul", { class: "member-list", "aria-labelledby": "members-title" });
    for (const m of members) {
      const name = m.display_name || m.username;
      const state = h("span", { class: "member-presence" }, "");
      const face = h("span", { class: "member-face" }, avatar(m.user_id, name, { size: "sm", url: m.avatar_url }));
      list.append(h("li", { class: "member", "data-user": m.username },
        face,
        h("span", { class: "member-main" },
          h("span", { class: "member-name" }, name, m.user_id === s.me.id ? " (you)" : "", " ", h("span", { class: "muted" }, `@${m.username}`)),
          state),
        m.role !== "member" ? h("span", { class: `tag role ${m.role}` }, m.role) : null,
        ...ROOM_HOOKS.memberActions(m, ctx)));
      const show = (online: boolean, lastActive: string | null) => {
        state.textContent = presence(online, lastActive);
        face.replaceChildren(avatar(m.user_id, name, { size: "sm", online, url: m.avatar_url }));
      };
      presenceOf.set(m.user_id, show);
      // Room details carry no presence; each member's profile has it, and frames keep it current.
      void get<User>(`/users/${m.user_id}`).then((u) => show(!!u.online, u.last_active)).catch(() => {});
    }
    return list;
  }

  function inviteBox(room: Room, members: RoomMember[], again: () => Promise<void>): HTMLElement {
    const input = h("input", { id: "invite-search", type: "search", autocomplete: "off", maxlength: 64, placeholder: "Search by username or name" });
    const results = h("ul", { class: "invite-results", "aria-label": "People to invite", "aria-live": "polite" });
    const inRoom = new Set(members.map((m) => m.user_id));
    let seq = 0;
    const search = debounce(async () => {
      const mine = ++seq;
      const term = input.value.trim();
      if (!term) return results.replaceChildren();
      try {
        const { users } = await get<{ users: User[] }>(`/users${qs({ search: term, limit: 10 })}`);
        if (mine !== seq) return;
        const outside = users.filter((u) => !inRoom.has(u.id));
        results.replaceChildren(...(outside.length ? outside.map((u) => inviteRow(u)) : [h("li", { class: "empty" }, users.length ? "Everyone found is already in the room." : "Nobody found.")]));
      } catch (err) {
        if (mine === seq) results.replaceChildren(errorBox((err as Error).message));
      }
    }, 200);
    const inviteRow = (u: User) => {
      const name = u.display_name || u.username;
      const add = h("button", { type: "button", class: "primary", "aria-label": `Invite ${name}` }, "Invite");
      add.addEventListener("click", () => void busy(add, async () => {
        try {
          await post(`/rooms/${room.id}/members`, { user_ids: [u.id] });
          toast(`${name} is now in #${room.name}`);
          await again();
          document.getElementById("invite-search")?.focus();
        } catch (err) {
          toast((err as Error).message);
        }
      }));
      return h("li", { class: "member" }, avatar(u.id, name, { size: "sm", online: !!u.online, url: u.avatar_url }), h("span", { class: "member-main" }, h("span", { class: "member-name" }, name, " ", h("span", { class: "muted" }, `@${u.username}`))), add);
    };
    input.addEventListener("input", () => search());
    return h("section", { class: "invite" }, h("label", { for: "invite-search", class: "block-title" }, "Invite people"), input, results);
  }

  function leaveBox(room: Room, me: MyRole): HTMLElement {
    const leave = h("button", { type: "button", class: "danger" }, "Leave room");
    const box = h("div", { class: "leave-box" }, leave);
    leave.addEventListener("click", () => {
      const yes = h("button", { type: "button", class: "danger" }, "Leave");
      const no = h("button", { type: "button" }, "Cancel");
      const owner = me === "owner" ? " You own it: ownership passes to the longest-standing admin or member." : "";
      box.replaceChildren(h("p", { role: "alert" }, `Leave #${room.name}?${room.is_private ? " It is private: you need an invitation to come back." : ""}${owner}`), yes, " ", no);
      no.addEventListener("click", () => box.replaceChildren(leave));
      yes.addEventListener("click", () => void busy(yes, async () => {
        try {
          await post(`/rooms/${room.id}/leave`);
          await gone(`You left #${room.name}`);
        } catch (err) {
          toast((err as Error).message);
        }
      }));
      yes.focus();
    });
    return box;
  }

  /** The room is no longer mine (left or deleted): close, drop it from the list, go to the rooms page. */
  async function gone(message: string) {
    // The conversation behind must not ask for a room it can no longer see.
    dialog.dataset.left = "1";
    s.forget(roomId, "left");
    dialog.close();
    await s.loadConversations().catch(() => {});
    toast(message);
    location.hash = "#/rooms";
  }

  void reload();
  return dialog;
}
