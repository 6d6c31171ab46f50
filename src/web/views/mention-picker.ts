/**
 * `@` autocomplete in the composer: typing @ and the start of a name lists
 * matching people of the conversation (username or display name); Up/Down
 * choose, Enter or Tab insert `@username `, Esc closes. Its keydown handler
 * must be registered before the composer's own (Enter sends there).
 */
import { h } from "../lib/dom";

export type Candidate = { id: string; username: string; name: string };

export function mentionPicker(input: HTMLTextAreaElement, candidates: () => Candidate[]) {
  const list = h("ul", { id: "mention-list", class: "mention-list", role: "listbox", "aria-label": "People to mention", hidden: true });
  let shown: Candidate[] = [];
  let active = 0;
  let start = -1;

  /** The `@word` right before the caret, if any. */
  function query(): string | null {
    const upTo = input.value.slice(0, input.selectionStart ?? input.value.length);
    const m = /(^|[\s(])@([\p{L}\p{N}_.-]*)$/u.exec(upTo);
    if (!m) return null;
    start = upTo.length - m[2]!.length - 1;
    return m[2]!.toLowerCase();
  }

  function close() {
    list.hidden = true;
    shown = [];
    input.removeAttribute("aria-activedescendant");
  }

  function render() {
    list.replaceChildren(...shown.map((c, i) => {
      const li = h("li", { id: `mention-${i}`, role: "option", class: "mention-option", "aria-selected": String(i === active) },
        h("strong", null, c.name), " ", h("span", { class: "muted" }, `@${c.username}`));
      li.addEventListener("mousedown", (e) => (e.preventDefault(), pick(i)));
      return li;
    }));
    input.setAttribute("aria-activedescendant", `mention-${active}`);
  }

  function update() {
    const q = query();
    if (q === null) return close();
    shown = candidates().filter((c) => c.username.toLowerCase().startsWith(q) || c.name.toLowerCase().split(/\s+/).some((w) => w.startsWith(q))).slice(0, 8);
    if (!shown.length) return close();
    active = Math.min(active, shown.length - 1);
    list.hidden = false;
    render();
  }

  function pick(i: number) {
    const c = shown[i];
    if (!c) return;
    const caret = input.selectionStart ?? input.value.length;
    const insert = `@${c.username} `;
    input.value = input.value.slice(0, start) + insert + input.value.slice(caret);
    const at = start + insert.length;
    input.setSelectionRange(at, at);
    close();
    input.dispatchEvent(new Event("input", { bubbles: true }));
    input.focus();
  }

  input.setAttribute("aria-controls", "mention-list");
  input.setAttribute("aria-autocomplete", "list");
  input.addEventListener("input", () => {
    active = 0;
    update();
  });
  input.addEventListener("blur", () => setTimeout(close, 150));
  input.addEventListener("keydown", (e) => {
    if (list.hidden || !shown.length) return;
    if (e.key === "ArrowDown" || e.key === "ArrowUp") {
      active = (active + (e.key === "ArrowDown" ? 1 : shown.length - 1)) % shown.length;
      render();
    } else if ((e.key === "Enter" && !e.shiftKey) || e.key === "Tab") pick(active);
    else if (e.key === "Escape") close();
    else return;
    e.preventDefault();
    e.stopImmediatePropagation();
  });
  return { el: list };
}
