/**
 * Chat message text as DOM nodes: links (http and https only), **bold**,
 * *italic*, `inline code`, fenced code blocks and "> " quotes. Like the
 * problem statements' Markdown, every piece of user text becomes a text node
 * or an attribute set through setAttribute; nothing goes through innerHTML,
 * so a message can never become markup or script.
 */
import { h } from "./dom";

/** Code first (nothing inside it is formatted), then links, then emphasis. */
const INLINE = /(`[^`\n]+`)|(https?:\/\/[^\s<>"'`]+)|(\*\*[^*\n]+\*\*)|(\*[^*\s][^*\n]*\*|_[^_\s][^_\n]*_)/gi;
/** Punctuation that ends a sentence rather than the address. */
const TRAILING = /[.,;:!?)\]}'"]+$/;

/** A safe link target: only http(s) URLs the browser itself parses as such. */
export function safeHref(raw: string): string | null {
  try {
    const u = new URL(raw);
    return u.protocol === "http:" || u.protocol === "https:" ? u.href : null;
  } catch {
    return null;
  }
}

function link(raw: string): (Node | string)[] {
  let text = raw;
  let tail = "";
  const t = TRAILING.exec(text);
  // Keep a closing parenthesis that belongs to the address (Wikipedia style).
  if (t && !(t[0] === ")" && text.includes("("))) {
    tail = t[0];
    text = text.slice(0, -tail.length);
  }
  const href = safeHref(text);
  if (!href) return [raw];
  return [h("a", { href, target: "_blank", rel: "noopener noreferrer" }, text), tail];
}

export function richInline(text: string): (Node | string)[] {
  const out: (Node | string)[] = [];
  let last = 0;
  for (const m of text.matchAll(INLINE)) {
    const at = m.index!;
    // Emphasis markers only count at word edges, so snake_case_names stay as typed.
    if ((m[4] && /\w/.test(text[at - 1] ?? "")) || (m[4] && /\w/.test(text[at + m[0].length] ?? ""))) continue;
    if (at > last) out.push(text.slice(last, at));
    const tok = m[0];
    if (m[1]) out.push(h("code", null, tok.slice(1, -1)));
    else if (m[2]) out.push(...link(tok));
    else if (m[3]) out.push(h("strong", null, ...richInline(tok.slice(2, -2))));
    else out.push(h("em", null, ...richInline(tok.slice(1, -1))));
    last = at + tok.length;
  }
  if (last < text.length) out.push(text.slice(last));
  return out;
}

/** The body of a text message (its container keeps white-space: pre-wrap for plain lines). */
export function richText(content: string): DocumentFragment {
  const frag = document.createDocumentFragment();
  const lines = content.replace(/\r\n?/g, "\n").split("\n");
  let plain: string[] = [];
  const flush = () => {
    if (!plain.length) return;
    frag.append(...richInline(plain.join("\n")));
    plain = [];
  };
  for (let i = 0; i < lines.length; i++) {
    const line = lines[i]!;
    if (/^\s*```/.test(line)) {
      const body: string[] = [];
      let j = i + 1;
      for (; j < lines.length && !/^\s*```\s*$/.test(lines[j]!); j++) body.push(lines[j]!);
      // An unclosed fence is just text.
      if (j >= lines.length) {
        plain.push(line);
        continue;
      }
      flush();
      frag.append(h("pre", { class: "msg-code" }, h("code", null, body.join("\n"))));
      i = j;
      if (lines[i + 1] === "") i++;
      continue;
    }
    if (/^>\s?/.test(line)) {
      flush();
      const quoted: string[] = [];
      for (; i < lines.length && /^>\s?/.test(lines[i]!); i++) quoted.push(lines[i]!.replace(/^>\s?/, ""));
      i--;
      frag.append(h("blockquote", { class: "msg-quote" }, ...richInline(quoted.join("\n"))));
      continue;
    }
    plain.push(line);
  }
  flush();
  return frag;
}
