/**
 * An image from a message, full size in a modal dialog instead of a
 * download: Esc, the close button or a click on the backdrop closes it, and
 * focus returns to where it was. Download stays one click away.
 */
import { h } from "../lib/dom";

export function openImageViewer(name: string, src: Promise<string>, download: () => void) {
  const back = document.activeElement as HTMLElement | null;
  const status = h("div", { class: "viewer-status", role: "status" }, "Loading…");
  const img = h("img", { class: "viewer-img", alt: name, hidden: true });
  const close = h("button", { type: "button", class: "icon-btn viewer-close", "aria-label": "Close image" }, "✕");
  const dialog = h("dialog", { class: "viewer", "aria-label": name },
    h("div", { class: "viewer-bar" },
      h("span", { class: "viewer-name" }, name),
      h("button", { type: "button", class: "link viewer-download", onclick: download }, "Download"),
      close),
    h("div", { class: "viewer-body" }, img, status),
  );
  close.addEventListener("click", () => dialog.close());
  // A click on the backdrop lands on the dialog element itself.
  dialog.addEventListener("click", (e: MouseEvent) => {
    if (e.target === dialog) dialog.close();
  });
  dialog.addEventListener("close", () => {
    dialog.remove();
    back?.focus();
  });
  document.body.append(dialog);
  dialog.showModal();
  close.focus();
  src.then((u) => {
    img.src = u;
    img.hidden = false;
    status.textContent = "";
  }).catch((err) => (status.textContent = (err as Error).message || "Image not available"));
  return dialog;
}
