/**
 * Room administration inside the room dialog (views/room-info.ts): settings
 * (name, description, private) for owners and admins, deleting the room for
 * its owner, and per member: make or unmake admin, hand the room over (owner),
 * remove (owner: anyone else; admin: members). The server checks every change
 * again; what is drawn here only hides what would be refused anyway.
 * Destructive steps ask once more, inline.
 */
import { api } from "../lib/api";
import { h } from "../lib/dom";
import type { Room } from "../lib/types";
import { busy, toast } from "./common";

export type RoomMember = NonNullable<Room["members"]>[number];
export type MyRole = "owner" | "admin" | "member";
/** `gone`: the room is no longer mine to show (deleted); closes the dialog with that message. */
export type RoomCtx = { room: Room; me: MyRole; myId: string; reload: () => Promise<void>; gone: (message: string) => Promise<void> };

/** Runs a change, then reloads the dialog; a refusal is said in a toast. */
async function change(button: HTMLButtonElement, ctx: RoomCtx, fn: () => Promise<unknown>, done: string) {
  await busy(button, async () => {
    try {
      await fn();
      toast(done);
      await ctx.reload();
    } catch (err) {
      toast((err as Error).message);
    }
  });
}

/** An inline "are you sure": replaces `box`'s content until answered. */
function confirmIn(box: HTMLElement, question: string, yesLabel: string, onYes: (yes: HTMLButtonElement) => void) {
  const before = [...box.childNodes];
  const yes = h("button", { type: "button", class: "danger" }, yesLabel);
  const no = h("button", { type: "button", onclick: () => box.replaceChildren(...before) }, "Cancel");
  yes.addEventListener("click", () => onYes(yes));
  box.replaceChildren(h("span", { role: "alert", class: "confirm-text" }, question), yes, no);
  yes.focus();
}

export function memberActions(m: RoomMember, ctx: RoomCtx): HTMLElement[] {
  const { me, room } = ctx;
  if (m.user_id === ctx.myId || m.role === "owner" || me === "member") return [];
  const name = m.display_name || m.username;
  const box = h("span", { class: "member-actions" });
  const setRole = (role: "member" | "admin" | "owner", label: string, done: string) => {
    const b = h("button", { type: "button", class: "link", "aria-label": `${label}: ${name}` }, label);
    b.addEventListener("click", () => {
      const run = (btn: HTMLButtonElement) => void change(btn, ctx, () => api("PATCH", `/rooms/${room.id}/members/${m.user_id}`, { role }), done);
      if (role === "owner") confirmIn(box, `Make ${name} the owner of #${room.name}? You become an admin.`, "Hand over", run);
      else run(b);
    });
    return b;
  };
  if (me === "owner") {
    box.append(m.role === "admin" ? setRole("member", "Remove admin", `${name} is no longer an admin`) : setRole("admin", "Make admin", `${name} is now an admin`));
    box.append(setRole("owner", "Make owner", `${name} now owns #${room.name}`));
  }
  if (me === "owner" || m.role === "member") {
    const remove = h("button", { type: "button", class: "link danger-link", "aria-label": `Remove ${name}` }, "Remove");
    remove.addEventListener("click", () => confirmIn(box, `Remove ${name} from #${room.name}?`, "Remove", (yes) =>
      void change(yes, ctx, () => api("DELETE", `/rooms/${room.id}/members/${m.user_id}`), `${name} was removed from #${room.name}`)));
    box.append(remove);
  }
  return box.childElementCount ? [box] : [];
}

export function roomActions(ctx: RoomCtx): HTMLElement[] {
  if (ctx.me === "member") return [];
  return [settingsForm(ctx), ...(ctx.me === "owner" ? [deleteBox(ctx)] : [])];
}

function settingsForm(ctx: RoomCtx): HTMLElement {
  const { room } = ctx;
  const name = h("input", { id: "room-name", name: "name", required: true, maxlength: 64, autocomplete: "off", value: room.name });
  const description = h("input", { id: "room-description", name: "description", maxlength: 500, autocomplete: "off", value: room.description ?? "" });
  const priv = h("input", { id: "room-private", type: "checkbox", name: "is_private" });
  priv.checked = room.is_private;
  const save = h("button", { type: "submit", class: "primary" }, "Save settings");
  const form = h("form", { class: "room-settings", "aria-label": "Room settings" },
    h("label", { for: "room-name" }, "Name"), name,
    h("label", { for: "room-description" }, "Description"), description,
    h("label", { class: "check" }, priv, " Private (people join by invitation)"),
    h("div", null, save));
  form.addEventListener("submit", (e) => {
    e.preventDefault();
    const body = { name: name.value.trim(), description: description.value.trim(), is_private: priv.checked };
    void change(save, ctx, () => api("PATCH", `/rooms/${room.id}`, body), "Room settings saved");
  });
  // Closed by default: the member list is what most people open the dialog for.
  return h("details", { class: "room-admin" }, h("summary", null, "Room settings"), form);
}

function deleteBox(ctx: RoomCtx): HTMLElement {
  const { room } = ctx;
  const del = h("button", { type: "button", class: "danger" }, "Delete room");
  const box = h("div", { class: "delete-box" }, del);
  del.addEventListener("click", () => confirmIn(box, `Delete #${room.name} for everyone? Its members and all its messages and files go; this cannot be undone.`, "Delete for everyone", (yes) =>
    void busy(yes, async () => {
      try {
        await api("DELETE", `/rooms/${room.id}`);
        await ctx.gone(`#${room.name} was deleted`);
      } catch (err) {
        toast((err as Error).message);
      }
    })));
  return box;
}
