/**
 * Splits a plain SQL file or `pg_dump` text output into ordered steps.
 *
 * This is a lexer, not a parser: it only has to know where one statement ends
 * and where COPY data begins, which needs quotes, dollar quotes and comments
 * (a `;` inside any of them is not a terminator). What each statement means is
 * decided later by the real PostgreSQL parser (dataset.ts).
 *
 * Assumes `standard_conforming_strings = on` (pg_dump's output since 9.1):
 * backslashes escape only inside E'...' strings.
 */

export type DumpStep =
  /** One SQL statement, without its trailing `;`. `line` is where its first token starts (1-based). */
  | { kind: "sql"; sql: string; line: number }
  /** `COPY ... FROM stdin` and its data lines, verbatim and newline-terminated, without the `\.` line. */
  | { kind: "copy"; sql: string; data: string; rows: number; line: number }
  /** A psql meta-command (`\connect`, `\restrict` ...): never SQL, kept so callers can report it. */
  | { kind: "meta"; text: string; line: number };

export class DumpSyntaxError extends Error {
  constructor(message: string, readonly line: number) {
    super(`line ${line}: ${message}`);
    this.name = "DumpSyntaxError";
  }
}

const COPY_FROM_STDIN = /^copy\b[\s\S]*\bfrom\s+stdin\b/i;
const IDENT_CHAR = /[A-Za-z0-9_$\u0080-\uffff]/;
const DOLLAR_TAG = /^\$([A-Za-z_\u0080-\uffff][A-Za-z0-9_\u0080-\uffff]*)?\$/;

export function splitDump(text: string): DumpStep[] {
  const steps: DumpStep[] = [];
  let i = 0;
  let line = 1;
  const n = text.length;

  /** Advances to `to`, counting newlines on the way. */
  const advance = (to: number) => {
    for (; i < to && i < n; i++) if (text.charCodeAt(i) === 10) line++;
    i = Math.min(to, n);
  };
  const skipTo = (needle: string, what: string, startLine: number) => {
    const end = text.indexOf(needle, i);
    if (end < 0) throw new DumpSyntaxError(`unterminated ${what}`, startLine);
    advance(end + needle.length);
  };

  while (i < n) {
    // Leading whitespace and comments belong to no statement.
    const c = text[i]!;
    if (c === " " || c === "\t" || c === "\r" || c === "\n" || c === ";") { advance(i + 1); continue; }
    if (text.startsWith("--", i)) { const eol = text.indexOf("\n", i); advance(eol < 0 ? n : eol + 1); continue; }
    if (text.startsWith("/*", i)) { skipBlockComment(); continue; }
    if (c === "\\") {
      const eol = text.indexOf("\n", i);
      const end = eol < 0 ? n : eol;
      steps.push({ kind: "meta", text: text.slice(i, end).trim(), line });
      advance(end);
      continue;
    }
    const start = i;
    const startLine = line;
    const end = scanStatement();
    const sql = text.slice(start, end).trim();
    if (COPY_FROM_STDIN.test(sql)) {
      steps.push(readCopyData(sql, startLine));
    } else {
      steps.push({ kind: "sql", sql, line: startLine });
    }
  }
  return steps;

  function skipBlockComment() {
    const startLine = line;
    let depth = 0;
    while (i < n) {
      if (text.startsWith("/*", i)) { depth++; advance(i + 2); continue; }
      if (text.startsWith("*/", i)) { depth--; advance(i + 2); if (depth === 0) return; continue; }
      advance(i + 1);
    }
    throw new DumpSyntaxError("unterminated /* comment", startLine);
  }

  /** Scans one statement from `i`; returns the index of its terminating `;` (or EOF) and moves past it. */
  function scanStatement(): number {
    while (i < n) {
      const ch = text[i]!;
      if (ch === ";") { const end = i; advance(i + 1); return end; }
      if (ch === "'") { scanString(isEscapeStringPrefix(i)); continue; }
      if (ch === '"') { scanQuoted('"', "quoted identifier"); continue; }
      if (text.startsWith("--", i)) { const eol = text.indexOf("\n", i); advance(eol < 0 ? n : eol); continue; }
      if (text.startsWith("/*", i)) { skipBlockComment(); continue; }
      if (ch === "$" && (i === 0 || !IDENT_CHAR.test(text[i - 1]!))) {
        const m = DOLLAR_TAG.exec(text.slice(i, i + 64));
        if (m) { const startLine = line; advance(i + m[0].length); skipTo(m[0], `dollar-quoted string ${m[0]}`, startLine); continue; }
      }
      advance(i + 1);
    }
    return n;
  }

  function isEscapeStringPrefix(quoteAt: number): boolean {
    const p = text[quoteAt - 1];
    return (p === "E" || p === "e") && (quoteAt < 2 || !IDENT_CHAR.test(text[quoteAt - 2]!));
  }

  function scanString(backslashEscapes: boolean) {
    const startLine = line;
    advance(i + 1);
    while (i < n) {
      const ch = text[i]!;
      if (backslashEscapes && ch === "\\") { advance(i + 2); continue; }
      if (ch === "'") {
        if (text[i + 1] === "'") { advance(i + 2); continue; }
        advance(i + 1);
        return;
      }
      advance(i + 1);
    }
    throw new DumpSyntaxError("unterminated string literal", startLine);
  }

  function scanQuoted(q: string, what: string) {
    const startLine = line;
    advance(i + 1);
    while (i < n) {
      if (text[i] === q) {
        if (text[i + 1] === q) { advance(i + 2); continue; }
        advance(i + 1);
        return;
      }
      advance(i + 1);
    }
    throw new DumpSyntaxError(`unterminated ${what}`, startLine);
  }

  /** COPY data starts on the line after the statement and ends at a line that is exactly `\.`. */
  function readCopyData(sql: string, startLine: number): DumpStep {
    const eol = text.indexOf("\n", i);
    advance(eol < 0 ? n : eol + 1);
    const lines: string[] = [];
    while (i < n) {
      const next = text.indexOf("\n", i);
      const end = next < 0 ? n : next;
      const raw = text.slice(i, end);
      const row = raw.endsWith("\r") ? raw.slice(0, -1) : raw;
      advance(next < 0 ? n : next + 1);
      if (row === "\\.") return { kind: "copy", sql, data: lines.length ? lines.join("\n") + "\n" : "", rows: lines.length, line: startLine };
      lines.push(row);
    }
    throw new DumpSyntaxError("COPY data is not terminated by a line containing only \\.", startLine);
  }
}
