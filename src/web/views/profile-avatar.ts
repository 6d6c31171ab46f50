/**
 * The picture block of the profile: my avatar, "Choose a picture"
 * (PUT /users/me/avatar, multipart, processed while the request waits) and
 * "Remove picture" (DELETE). The new avatar_url replaces the avatar in the
 * sidebar at once; other people's clients see it on their next look-up.
 */
import { api, ApiError, freshSession } from "../lib/api";
import { h } from "../lib/dom";
import { updateUser } from "../lib/session";
import type { User } from "../lib/types";
import { avatar } from "./avatar";
import { busy, toast } from "./common";

async function upload(file: File): Promise<User> {
  const s = await freshSession();
  const form = new FormData();
  form.append("file", file);
  const res = await fetch("/users/me/avatar", { method: "PUT", headers: { authorization: `Bearer ${s.access_token}` }, body: form });
  if (!res.ok) {
    const body = (await res.json().catch(() => ({}))) as { error?: { code?: string; message?: string } };
    throw new ApiError(res.status, body.error?.code ?? `http_${res.status}`, body.error?.message ?? `Upload failed (${res.status})`);
  }
  return (await res.json()) as User;
}

/** Draws my avatar again wherever the shell shows it (the sidebar's account link). */
export function showMyAvatar(me: User) {
  document.querySelector("a.me .avatar")?.replaceWith(avatar(me.id, me.display_name || me.username, { size: "sm", url: me.avatar_url }));
}

export function avatarBlock(me: User): HTMLElement {
  const face = h("span", { class: "profile-face" });
  const input = h("input", { id: "avatar-file", type: "file", accept: "image/png,image/jpeg,image/gif,image/webp", class: "sr-only" });
  const choose = h("label", { for: "avatar-file", class: "button" }, "Choose a picture");
  const remove = h("button", { type: "button" }, "Remove picture");
  const status = h("div", { class: "form-notice", role: "status", "aria-live": "polite" });

  const draw = () => {
    face.replaceChildren(avatar(me.id, me.display_name || me.username, { size: "lg", url: me.avatar_url }));
    remove.hidden = !me.avatar_url;
  };
  const applied = (u: User, text: string) => {
    me.avatar_url = u.avatar_url ?? null;
    updateUser({ ...me });
    draw();
    showMyAvatar(me);
    status.textContent = text;
    status.className = "form-notice ok";
  };
  input.addEventListener("change", async () => {
    const file = input.files?.[0];
    input.value = "";
    if (!file) return;
    status.textContent = "Uploading…";
    status.className = "form-notice";
    try {
      applied(await upload(file), "Picture saved.");
    } catch (err) {
      status.textContent = (err as Error).message;
      status.className = "form-notice bad";
    }
  });
  remove.addEventListener("click", () => void busy(remove, async () => {
    try {
      await api("DELETE", "/users/me/avatar");
      applied({ ...me, avatar_url: null }, "Picture removed.");
    } catch (err) {
      toast((err as Error).message);
    }
  }));
  draw();
  return h("section", { class: "card-block", "aria-label": "Picture" },
    h("h3", null, "Picture"),
    h("div", { class: "avatar-tools" }, face, choose, input, remove),
    h("div", { class: "field-hint" }, "PNG, JPEG, GIF or WebP; cropped to a square."),
    status);
}
