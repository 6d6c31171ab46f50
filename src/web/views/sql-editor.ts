/**
 * The SQL editor: CodeMirror 6 with PostgreSQL highlighting and completion of
 * the problem's tables and columns, bundled into the client (no network).
 * Ctrl/Cmd+Enter runs, Shift+Ctrl/Cmd+Enter submits.
 *
 * It lives in a shadow root: CodeMirror adds its styles at run time, and the
 * page's CSP (style-src 'self') refuses <style> elements, while a shadow
 * root takes them as constructed style sheets. Colours come from the app's
 * CSS variables, which cross the shadow boundary.
 */
import { EditorState, Prec } from "@codemirror/state";
import { EditorView, drawSelection, highlightActiveLine, keymap, lineNumbers, placeholder } from "@codemirror/view";
import { defaultKeymap, history, historyKeymap } from "@codemirror/commands";
import { bracketMatching, HighlightStyle, syntaxHighlighting } from "@codemirror/language";
import { autocompletion, closeBrackets, closeBracketsKeymap, completionKeymap } from "@codemirror/autocomplete";
import { PostgreSQL, sql } from "@codemirror/lang-sql";
import { tags } from "@lezer/highlight";
import { h } from "../lib/dom";

export type SqlEditor = { el: HTMLElement; value(): string; set(text: string): void; focus(): void; markError(position: number | null): void };
type Options = { label: string; describedBy?: string; initial: string; tables: Record<string, string[]>; onChange(text: string): void; onRun(): void; onSubmit(): void };

const highlight = HighlightStyle.define([
  { tag: tags.keyword, color: "var(--accent)", fontWeight: "600" },
  { tag: [tags.string, tags.special(tags.string)], color: "var(--ok)" },
  { tag: [tags.number, tags.bool, tags.null], color: "var(--warn)" },
  { tag: tags.comment, color: "var(--muted)", fontStyle: "italic" },
  { tag: [tags.typeName, tags.standard(tags.name)], color: "var(--warn)" },
  { tag: tags.invalid, color: "var(--bad)" },
]);

const theme = EditorView.theme({
  "&": { fontSize: "14px", color: "var(--text)", backgroundColor: "var(--surface)", border: "1px solid var(--border)", borderRadius: "10px", minHeight: "190px" },
  "&.cm-focused": { outline: "2px solid var(--accent)", outlineOffset: "2px" },
  ".cm-scroller": { fontFamily: "var(--mono)", lineHeight: "1.55", minHeight: "188px" },
  ".cm-content": { caretColor: "var(--text)", padding: "10px 0" },
  ".cm-gutters": { backgroundColor: "var(--surface-2)", color: "var(--muted)", border: "none", borderRadius: "10px 0 0 10px" },
  ".cm-activeLine": { backgroundColor: "color-mix(in srgb, var(--accent) 6%, transparent)" },
  ".cm-cursor": { borderLeftColor: "var(--text)" },
  "&.cm-focused .cm-selectionBackground, .cm-selectionBackground, ::selection": { backgroundColor: "color-mix(in srgb, var(--accent) 28%, transparent) !important" },
  ".cm-placeholder": { color: "var(--muted)" },
  ".cm-tooltip": { backgroundColor: "var(--surface)", color: "var(--text)", border: "1px solid var(--border)", borderRadius: "8px" },
  ".cm-tooltip-autocomplete > ul > li[aria-selected]": { backgroundColor: "var(--accent)", color: "var(--accent-text)" },
  ".cm-error-mark": { textDecoration: "underline wavy var(--bad)" },
});

export function sqlEditor(o: Options): SqlEditor {
  const host = h("div", { class: "sql-editor-host" });
  const root = host.attachShadow({ mode: "open" });
  const mount = document.createElement("div");
  root.append(mount);
  const run = () => (o.onRun(), true);
  const submit = () => (o.onSubmit(), true);
  const view = new EditorView({
    root,
    parent: mount,
    state: EditorState.create({
      doc: o.initial,
      extensions: [
        Prec.highest(keymap.of([{ key: "Mod-Enter", run }, { key: "Shift-Mod-Enter", run: submit }])),
        lineNumbers(), history(), drawSelection(), highlightActiveLine(), bracketMatching(), closeBrackets(),
        autocompletion({ activateOnTyping: true }),
        keymap.of([...closeBracketsKeymap, ...defaultKeymap, ...historyKeymap, ...completionKeymap]),
        sql({ dialect: PostgreSQL, schema: o.tables, upperCaseKeywords: false }),
        syntaxHighlighting(highlight),
        placeholder("select …"),
        theme,
        EditorView.lineWrapping,
        EditorView.contentAttributes.of({ "aria-label": o.label, ...(o.describedBy ? { "aria-describedby": o.describedBy } : {}), spellcheck: "false", autocapitalize: "off", "data-testid": "sql-editor" }),
        EditorView.updateListener.of((u) => {
          if (u.docChanged) o.onChange(u.state.doc.toString());
        }),
      ],
    }),
  });
  return {
    el: host,
    value: () => view.state.doc.toString(),
    set(text: string) {
      view.dispatch({ changes: { from: 0, to: view.state.doc.length, insert: text } });
    },
    focus: () => view.focus(),
    /** Puts the cursor at a 1-based error position, so the mistake is where typing resumes. */
    markError(position: number | null) {
      if (!position) return;
      const at = Math.min(view.state.doc.length, Math.max(0, position - 1));
      view.dispatch({ selection: { anchor: at }, scrollIntoView: true });
    },
  };
}
