/**
 * Keyboard shortcuts for the whole app: Alt+Up/Down moves to the previous or
 * next conversation in the list, "/" focuses the search of the page (or the
 * conversation filter), Esc leaves a search field. Dialogs close on Esc by
 * themselves (<dialog>). Typing in a field never triggers "/".
 */
function editable(el: Element | null): boolean {
  if (!el) return false;
  const tag = el.tagName;
  return tag === "INPUT" || tag === "TEXTAREA" || tag === "SELECT" || (el as HTMLElement).isContentEditable;
}

export function installShortcuts(conversationIds: () => string[]): () => void {
  const onKey = (e: KeyboardEvent) => {
    if (e.defaultPrevented || document.querySelector("dialog[open]")) return;
    if (e.altKey && !e.ctrlKey && !e.metaKey && (e.key === "ArrowUp" || e.key === "ArrowDown")) {
      const ids = conversationIds();
      if (!ids.length) return;
      e.preventDefault();
      const at = ids.findIndex((id) => location.hash === `#/c/${id}` || location.hash.startsWith(`#/c/${id}/`));
      const next = at < 0 ? (e.key === "ArrowDown" ? 0 : ids.length - 1) : Math.min(ids.length - 1, Math.max(0, at + (e.key === "ArrowDown" ? 1 : -1)));
      if (next !== at) location.hash = `#/c/${ids[next]}`;
      return;
    }
    if (e.key === "/" && !e.ctrlKey && !e.metaKey && !e.altKey && !editable(document.activeElement)) {
      const target = document.querySelector<HTMLInputElement>("main [data-search]") ?? document.querySelector<HTMLInputElement>("#conv-filter");
      if (!target) return;
      e.preventDefault();
      target.focus();
      target.select();
      return;
    }
    if (e.key === "Escape" && document.activeElement instanceof HTMLInputElement && document.activeElement.type === "search") {
      const input = document.activeElement;
      if (input.value) {
        input.value = "";
        input.dispatchEvent(new Event("input", { bubbles: true }));
      } else input.blur();
    }
  };
  document.addEventListener("keydown", onKey);
  return () => document.removeEventListener("keydown", onKey);
}
