/** Small pieces shared by the views. */
import { h, icon, ICONS, type Child } from "../lib/dom";

export type View = { el: HTMLElement; destroy?(): void; title?: string };

/** Back to the list on narrow screens (hidden by CSS on wide ones). */
export function backButton(href = "#/"): HTMLElement {
  return h("a", { class: "back", href, "aria-label": "Back" }, icon(ICONS.back));
}

export function paneHead(title: string, sub?: Child, extra: Child[] = [], back = "#/"): HTMLElement {
  return h("header", { class: "pane-head" }, backButton(back), h("div", { class: "titles" }, h("h2", { class: "pane-title" }, title), sub ? h("div", { class: "pane-sub" }, sub) : null), h("div", { class: "head-actions" }, ...extra));
}

export function errorBox(message: string): HTMLElement {
  return h("div", { class: "alert", role: "alert" }, message);
}

export function spinner(label = "Loading…"): HTMLElement {
  return h("div", { class: "loading", role: "status" }, h("span", { class: "spin", "aria-hidden": "true" }), label);
}

let toastTimer: ReturnType<typeof setTimeout> | undefined;
/** A short message at the bottom of the screen. */
export function toast(message: string) {
  let el = document.getElementById("toast");
  if (!el) {
    el = h("div", { id: "toast", class: "toast", role: "status", "aria-live": "polite" });
    document.body.append(el);
  }
  el.textContent = message;
  el.classList.add("show");
  clearTimeout(toastTimer);
  toastTimer = setTimeout(() => el!.classList.remove("show"), 3500);
}

/** Runs `fn` with the button disabled, so double clicks do nothing. */
export async function busy<T>(button: HTMLButtonElement, fn: () => Promise<T>): Promise<T> {
  button.disabled = true;
  try {
    return await fn();
  } finally {
    button.disabled = false;
  }
}

/** The app's mark, from the same versioned URL as the page's icon. */
export function logo(size = 28): HTMLElement {
  const src = document.querySelector('link[rel="icon"]')?.getAttribute("href") ?? "/assets/icon.svg";
  return h("img", { src, alt: "", width: size, height: size, class: "logo" });
}
