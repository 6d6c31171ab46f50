import { h } from "../lib/dom";
import { hue, initials } from "../lib/format";
import { fetchBlob } from "./attachment";

/**
 * Pictures by avatar_url, fetched once with the bearer token (an <img src>
 * cannot send it) and kept as blob: URLs for the page's life. A new picture
 * has a new URL (?v=), so nothing goes stale; the set is one per person seen.
 */
const pictures = new Map<string, Promise<string | null>>();

function picture(url: string): Promise<string | null> {
  let p = pictures.get(url);
  if (!p) pictures.set(url, (p = fetchBlob(url).then((b) => URL.createObjectURL(b), () => null)));
  return p;
}

/** A coloured initials badge, or the person's picture once loaded; the colour is set from JS (CSP forbids inline style attributes). */
export function avatar(id: string, name: string, opts: { online?: boolean; size?: "sm" | "md" | "lg"; room?: boolean; url?: string | null } = {}): HTMLElement {
  const el = h("span", { class: `avatar ${opts.size ?? "md"}${opts.room ? " room" : ""}`, "aria-hidden": "true" }, opts.room ? "#" : initials(name));
  el.style.setProperty("--hue", String(hue(id)));
  if (opts.url && !opts.room) {
    void picture(opts.url).then((src) => {
      if (src) el.prepend(h("img", { class: "avatar-img", src, alt: "" }));
    });
  }
  if (opts.online !== undefined) el.append(h("span", { class: `dot ${opts.online ? "on" : "off"}` }));
  return el;
}
