/**
 * My profile: display name and bio, and a password change. A password change
 * ends every other session; the server hands this one new tokens, which
 * replace the old ones here (and so in every tab of this browser).
 */
import { api } from "../lib/api";
import { h } from "../lib/dom";
import { saveSession, updateUser } from "../lib/session";
import type { User } from "../lib/types";
import type { ChatClient } from "../chat/client";
import { avatarBlock } from "./profile-avatar";
import { busy, paneHead, toast, type View } from "./common";

type Patched = User & { session?: { access_token: string; refresh_token: string; token_type: string; expires_in: number } };

function field(id: string, label: string, control: HTMLElement, hint?: string): HTMLElement {
  return h("div", { class: "field" }, h("label", { for: id }, label), control, hint ? h("div", { class: "field-hint", id: `${id}-hint` }, hint) : null);
}

function notice(): HTMLElement {
  return h("div", { class: "form-notice", role: "status", "aria-live": "polite" });
}

export function profileView(client: ChatClient): View {
  const me = client.store.me;
  const name = h("input", { id: "profile-name", maxlength: 64, autocomplete: "nickname", value: me.display_name ?? "", placeholder: me.username });
  const bio = h("textarea", { id: "profile-bio", maxlength: 500, rows: 4, "aria-describedby": "profile-bio-hint" });
  bio.value = me.bio ?? "";
  const save = h("button", { type: "submit", class: "primary" }, "Save profile");
  const saved = notice();
  const current = h("input", { id: "pw-current", type: "password", autocomplete: "current-password", required: true });
  const next = h("input", { id: "pw-new", type: "password", autocomplete: "new-password", minlength: 8, maxlength: 200, required: true, "aria-describedby": "pw-new-hint" });
  const again = h("input", { id: "pw-again", type: "password", autocomplete: "new-password", required: true });
  const change = h("button", { type: "submit", class: "primary" }, "Change password");
  const pwNotice = notice();

  function show(el: HTMLElement, text: string, ok: boolean) {
    el.textContent = text;
    el.className = `form-notice ${ok ? "ok" : "bad"}`;
  }

  function applied(u: User) {
    Object.assign(me, { display_name: u.display_name, bio: u.bio });
    updateUser(u);
    // The sidebar shows my name; it was drawn before this change.
    const label = document.querySelector(".me-name");
    if (label) label.textContent = u.display_name || u.username;
  }

  const profileForm = h("form", { class: "card-block", "aria-label": "Profile", onsubmit: (e: Event) => (e.preventDefault(), void busy(save, async () => {
    try {
      const u = await api<Patched>("PATCH", "/users/me", { display_name: name.value.trim() || null, bio: bio.value.trim() || null });
      applied(u);
      show(saved, "Profile saved.", true);
    } catch (err) {
      show(saved, (err as Error).message, false);
    }
  })) },
    h("h3", null, "Profile"),
    
    field("profile-name", "Display name", name),
    field("profile-bio", "Bio", bio, "Up to 500 characters, shown to people who look you up."),
    saved, save);

  const passwordForm = h("form", { class: "card-block", "aria-label": "Password", onsubmit: (e: Event) => (e.preventDefault(), void changePassword()) },
    h("h3", null, "Change password"),
    field("pw-current", "Current password", current),
    field("pw-new", "New password", next, "At least 8 characters. Other devices will be signed out."),
    field("pw-again", "New password again", again),
    pwNotice, change);

  async function changePassword() {
    if (next.value !== again.value) return show(pwNotice, "The two new passwords differ.", false);
    if (next.value.length < 8) return show(pwNotice, "The new password needs at least 8 characters.", false);
    await busy(change, async () => {
      try {
        const u = await api<Patched>("PATCH", "/users/me", { password: next.value, current_password: current.value });
        const { session, ...user } = u;
        if (session) saveSession({ user, ...session });
        applied(user);
        for (const i of [current, next, again]) i.value = "";
        show(pwNotice, "Password changed. Your other sessions were signed out.", true);
        toast("Password changed");
      } catch (err) {
        show(pwNotice, (err as Error).message, false);
      }
    });
  }

  const el = h("section", { class: "pane page", "aria-label": "Your profile" },
    paneHead("Your profile", `@${me.username}`),
    h("div", { class: "page-body profile" }, avatarBlock(me), profileForm, passwordForm));
  return { el };
}
