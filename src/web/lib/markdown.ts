/**
 * A small Markdown renderer for problem statements that builds DOM nodes
 * directly: text only ever becomes text nodes, so there is no HTML
 * passthrough and nothing to escape. Supports headings, paragraphs, lists,
 * fenced code, `code`, **bold**, *italic* and pipe tables.
 */
import { h } from "./dom";

const INLINE = /(`[^`]+`)|(\*\*[^*]+\*\*|__[^_]+__)|(\*[^*\s][^*]*\*|_[^_\s][^_]*_)/g;

export function inline(text: string): (Node | string)[] {
  const out: (Node | string)[] = [];
  let last = 0;
  for (const m of text.matchAll(INLINE)) {
    if (m.index! > last) out.push(text.slice(last, m.index));
    const tok = m[0];
    if (m[1]) out.push(h("code", null, tok.slice(1, -1)));
    else if (m[2]) out.push(h("strong", null, ...inline(tok.slice(2, -2))));
    else out.push(h("em", null, ...inline(tok.slice(1, -1))));
    last = m.index! + tok.length;
  }
  if (last < text.length) out.push(text.slice(last));
  return out;
}

const isTableRow = (l: string) => /^\s*\|.*\|\s*$/.test(l);
const isTableRule = (l: string) => /^\s*\|?\s*:?-{2,}:?\s*(\|\s*:?-{2,}:?\s*)*\|?\s*$/.test(l);
const cells = (l: string) => l.trim().replace(/^\|/, "").replace(/\|$/, "").split("|").map((c) => c.trim());
const LIST = /^\s*(?:[-*+]|(\d+)[.)])\s+(.*)$/;

export function renderMarkdown(src: string): HTMLElement {
  const root = h("div", { class: "md" });
  const lines = src.replace(/\r\n?/g, "\n").split("\n");
  let i = 0;
  while (i < lines.length) {
    const line = lines[i]!;
    if (!line.trim()) {
      i++;
      continue;
    }
    const fence = line.match(/^\s*(```|~~~)\s*([\w+-]*)\s*$/);
    if (fence) {
      const body: string[] = [];
      for (i++; i < lines.length && !lines[i]!.trim().startsWith(fence[1]!); i++) body.push(lines[i]!);
      i++;
      root.append(h("pre", null, h("code", fence[2] ? { "data-lang": fence[2] } : null, body.join("\n"))));
      continue;
    }
    const heading = line.match(/^(#{1,6})\s+(.*?)\s*#*\s*$/);
    if (heading) {
      // Statements sit under the problem's own h1/h2, so their headings start at h3.
      const level = Math.min(6, heading[1]!.length + 2) as 3 | 4 | 5 | 6;
      root.append(h(`h${level}`, null, ...inline(heading[2]!)));
      i++;
      continue;
    }
    if (isTableRow(line) && i + 1 < lines.length && isTableRule(lines[i + 1]!)) {
      const head = cells(line);
      const rows: string[][] = [];
      for (i += 2; i < lines.length && isTableRow(lines[i]!); i++) rows.push(cells(lines[i]!));
      root.append(h("div", { class: "table-wrap" }, h("table", null,
        h("thead", null, h("tr", null, head.map((c) => h("th", null, ...inline(c))))),
        h("tbody", null, rows.map((r) => h("tr", null, head.map((_, j) => h("td", null, ...inline(r[j] ?? "")))))),
      )));
      continue;
    }
    const item = line.match(LIST);
    if (item) {
      const ordered = item[1] !== undefined;
      const list = h(ordered ? "ol" : "ul", ordered && item[1] !== "1" ? { start: item[1] } : null);
      for (; i < lines.length; i++) {
        const m = lines[i]!.match(LIST);
        if (m && (m[1] !== undefined) === ordered) list.append(h("li", null, ...inline(m[2]!)));
        else if (m || !lines[i]!.trim() || !/^\s{2,}/.test(lines[i]!)) break;
        else list.lastElementChild?.append(" ", ...inline(lines[i]!.trim()));
      }
      root.append(list);
      continue;
    }
    const para: string[] = [];
    for (; i < lines.length && lines[i]!.trim() && !LIST.test(lines[i]!) && !/^(#{1,6}\s|\s*```|\s*~~~)/.test(lines[i]!) && !isTableRow(lines[i]!); i++) para.push(lines[i]!.trim());
    if (!para.length) para.push(lines[i++]!.trim());
    root.append(h("p", null, ...inline(para.join(" "))));
  }
  return root;
}
