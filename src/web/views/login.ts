/** Sign in / create account. On success the session is stored and `done` runs. */
import { api, ApiError, retryAt } from "../lib/api";
import { h } from "../lib/dom";
import { saveSession, type Session } from "../lib/session";
import type { SessionReply } from "../lib/types";
import { busy, logo } from "./common";
import { LIMITED } from "./wait";

type Mode = "login" | "register";

function field(id: string, label: string, attrs: Record<string, string | number | boolean>) {
  return h("div", { class: "field" }, h("label", { for: id }, label), h("input", { id, name: id, required: true, ...attrs }));
}

export function loginView(done: (s: Session) => void, notice?: string): HTMLElement {
  let mode: Mode = "login";
  const error = h("div", { class: "alert", role: "alert", hidden: !notice }, notice ?? "");
  const submit = h("button", { type: "submit", class: "primary wide" }, "Sign in");
  const fields = h("div", { class: "fields" });
  const tabLogin = h("button", { type: "button", role: "tab", id: "tab-login", "aria-controls": "auth-form", onclick: () => setMode("login") }, "Sign in");
  const tabRegister = h("button", { type: "button", role: "tab", id: "tab-register", "aria-controls": "auth-form", onclick: () => setMode("register") }, "Create account");
  const form = h("form", { id: "auth-form", class: "auth-form", novalidate: false, onsubmit: (e: Event) => (e.preventDefault(), void send()) }, fields, error, submit);

  function setMode(m: Mode, keepNotice = false) {
    mode = m;
    tabLogin.setAttribute("aria-selected", String(m === "login"));
    tabRegister.setAttribute("aria-selected", String(m === "register"));
    submit.textContent = m === "login" ? "Sign in" : "Create account";
    fields.replaceChildren(...(m === "login"
      ? [
          field("username", "Username or email", { autocomplete: "username", maxlength: 254, autocapitalize: "none", spellcheck: false }),
          field("password", "Password", { type: "password", autocomplete: "current-password", maxlength: 200 }),
        ]
      : [
          field("username", "Username", { autocomplete: "username", minlength: 3, maxlength: 32, pattern: "[A-Za-z0-9_.\\-]+", title: "3–32 letters, digits, _ . -", autocapitalize: "none", spellcheck: false }),
          field("email", "Email", { type: "email", autocomplete: "email", maxlength: 254 }),
          field("password", "Password", { type: "password", autocomplete: "new-password", minlength: 8, maxlength: 200, "aria-describedby": "pw-hint" }),
          h("p", { id: "pw-hint", class: "hint" }, "At least 8 characters."),
        ]));
    error.hidden = !keepNotice;
    (fields.querySelector("input") as HTMLInputElement | null)?.focus();
  }

  async function send() {
    const data = Object.fromEntries(new FormData(form)) as Record<string, string>;
    error.hidden = true;
    try {
      const reply = await busy(submit, () => mode === "login"
        ? api<SessionReply>("POST", "/auth/login", { username: data.username, password: data.password }, { auth: false })
        : api<SessionReply>("POST", "/auth/register", { username: data.username, email: data.email, password: data.password }, { auth: false }));
      done(saveSession(reply));
    } catch (err) {
      const until = retryAt(err);
      error.replaceChildren(until ? LIMITED.signIn(until) : describe(err));
      error.hidden = false;
    }
  }

  setMode("login", !!notice);
  return h("main", { class: "auth" },
    h("div", { class: "auth-card" },
      h("div", { class: "brand big" }, logo(40), h("span", null, "Huddle")),
      h("p", { class: "tagline" }, "Chat with your team and practise SQL together."),
      h("div", { class: "tabs", role: "tablist", "aria-label": "Account" }, tabLogin, tabRegister),
      form,
    ),
  );
}

function describe(err: unknown): string {
  if (!(err instanceof ApiError)) return "Cannot reach the server. Check your connection and try again.";
  if (err.status === 401) return "Wrong username or password.";
  if (err.status === 409) return err.message || "That username or email is already taken.";
  const details = Array.isArray(err.details) ? (err.details as { field?: string; message?: string }[]).map((d) => `${d.field ?? ""} ${d.message ?? ""}`.trim()).join("; ") : "";
  return details ? `${err.message}: ${details}` : err.message;
}
