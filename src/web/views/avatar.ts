import { h } from "../lib/dom";
import { hue, initials } from "../lib/format";

/** A coloured initials badge; the colour is set from JS (CSP forbids inline style attributes). */
export function avatar(id: string, name: string, opts: { online?: boolean; size?: "sm" | "md"; room?: boolean } = {}): HTMLElement {
  const el = h("span", { class: `avatar ${opts.size ?? "md"}${opts.room ? " room" : ""}`, "aria-hidden": "true" }, opts.room ? "#" : initials(name));
  el.style.setProperty("--hue", String(hue(id)));
  if (opts.online !== undefined) el.append(h("span", { class: `dot ${opts.online ? "on" : "off"}` }));
  return el;
}
