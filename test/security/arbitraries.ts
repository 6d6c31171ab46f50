/**
 * fast-check generators for hostile input: strings with NUL, lone surrogates,
 * RTL overrides and emoji; numbers out of every range; deep nesting; huge
 * values; malformed JSON; path segments that are not UUIDs (or not even valid
 * percent-encoding). Bodies are described as mutations of a valid sample, so a
 * share of the cases gets past validation and reaches the services.
 */
import fc from "fast-check";

const NASTY = [
  "\u0000", "a\u0000b", "\ud800", "\udfff", "x\ud83d", "\u202eevil\u202c", "\u200b", "\ufeff", "\u0085", "🙂", "👨‍👩‍👧‍👦",
  "é", "ﷺ", "\r\n", "\t", " ", "", "../../etc/passwd", "..\\..\\win.ini", "__proto__", "constructor", "prototype",
  "' or 1=1 --", "\"; drop table users; --", "<script>alert(1)</script>", "%00", "%", "${7*7}", "{{7*7}}", "null", "true",
  "-1", "0", "NaN", "Infinity", "1e400", "0x1F", "9007199254740993", "[]", "{}", "00000000-0000-0000-0000-000000000000",
];

export const nasty = fc.constantFrom(...NASTY);
const loneSurrogate = fc.integer({ min: 0xd800, max: 0xdfff }).map((c) => String.fromCharCode(c));
/** Long strings, kept under the 1 MiB body limit once JSON-encoded. */
export const huge = fc.tuple(fc.constantFrom("x", "🙂", "\u0000", "é", " ", "\u202e", "a\ud800"), fc.integer({ min: 4_000, max: 100_000 }))
  .map(([c, n]) => c.repeat(n));

export const text: fc.Arbitrary<string> = fc.oneof(
  { arbitrary: fc.string({ unit: "binary", maxLength: 40 }), weight: 3 },
  { arbitrary: fc.string({ unit: "grapheme", maxLength: 40 }), weight: 2 },
  { arbitrary: nasty, weight: 4 },
  { arbitrary: fc.tuple(fc.string({ maxLength: 6 }), loneSurrogate, fc.string({ maxLength: 6 })).map(([a, b, c]) => a + b + c), weight: 1 },
  { arbitrary: fc.uuid(), weight: 1 },
  { arbitrary: huge, weight: 1 },
);

export const number = fc.oneof(
  fc.integer(),
  fc.double(),
  fc.constantFrom(0, -0, -1, 1.5, 2 ** 31, 2 ** 53, 2 ** 53 + 2, 2 ** 64, 1e308, -1e308, Number.MAX_SAFE_INTEGER, Number.MIN_SAFE_INTEGER, 5e-324),
);

const scalar = fc.oneof(text, number, fc.boolean(), fc.constant(null));

/** Any JSON value, nested a little. */
export const value: fc.Arbitrary<unknown> = fc.letrec<{ v: unknown }>((tie) => ({
  v: fc.oneof(
    { depthSize: "small", withCrossShrink: true },
    scalar,
    fc.array(tie("v"), { maxLength: 4 }),
    fc.dictionary(fc.oneof(fc.string({ maxLength: 8 }), nasty), tie("v"), { maxKeys: 4 }),
  ),
})).v;

/** Nesting deep enough to overflow a naive recursive walker, as raw JSON text. */
export const deepJson = fc.tuple(fc.integer({ min: 64, max: 150_000 }), fc.constantFrom("array", "object"))
  .map(([depth, kind]) => (kind === "array" ? "[".repeat(depth) + "]".repeat(depth) : '{"a":'.repeat(depth) + "1" + "}".repeat(depth)));

/** Percent-encodes every byte outside the unreserved set (lone surrogates become U+FFFD, as a browser sends them). */
export function encodeAll(s: string): string {
  let out = "";
  for (const b of new TextEncoder().encode(s)) {
    const c = String.fromCharCode(b);
    out += /[A-Za-z0-9_.~-]/.test(c) ? c : `%${b.toString(16).toUpperCase().padStart(2, "0")}`;
  }
  return out;
}

/** A path segment: a valid one, a random UUID, or garbage (encoded, or raw broken percent-encoding). */
export const segment = (valid: string) => fc.oneof(
  { arbitrary: fc.constant(valid), weight: 4 },
  { arbitrary: fc.uuid().map(String), weight: 2 },
  // Not "." or "..": the client's URL parser would resolve them, and the request would go to another route.
  { arbitrary: text.map((s) => encodeAll(s.slice(0, 3000))).filter((s) => s !== "" && s !== "." && s !== ".."), weight: 4 },
  { arbitrary: fc.constantFrom("%", "%zz", "%ED%A0%80", "%FF%FE", "%00", "a%2Fb", "..%2F..%2Fetc", "~", "%C0%AF", "%E2%80%AE", "__proto__", "constructor"), weight: 2 },
);

export type QueryPair = [string, string];
/** Query pairs: known keys with valid, wrong-typed or hostile values, unknown keys, repeated keys. */
export function queryArb(known: Record<string, string>): fc.Arbitrary<QueryPair[]> {
  const keys = Object.keys(known);
  const numberish = fc.constantFrom("-1", "0", "1e400", "9007199254740993", "1.5", "0x10", "", " 5 ", "NaN", "101", "99999999999999999999", "true");
  const knownPair: fc.Arbitrary<QueryPair> = keys.length === 0
    ? fc.tuple(fc.string({ maxLength: 8 }), text)
    : fc.tuple(fc.constantFrom(...keys), fc.oneof({ arbitrary: fc.constant(null), weight: 3 }, { arbitrary: numberish, weight: 2 }, { arbitrary: text, weight: 2 }))
      .map(([k, v]) => [k, v ?? known[k]!]);
  return fc.array(fc.oneof({ arbitrary: knownPair, weight: 4 }, { arbitrary: fc.tuple(text, text), weight: 1 }), { maxLength: 5 });
}

export const queryString = (pairs: QueryPair[]) =>
  pairs.length === 0 ? "" : "?" + pairs.map(([k, v]) => `${encodeAll(k)}=${encodeAll(v)}`).join("&");

/** How a body deviates from the valid sample. */
export type BodyCase =
  | { kind: "valid" }
  | { kind: "empty" }
  | { kind: "drop"; index: number }
  | { kind: "replace"; index: number; value: unknown }
  | { kind: "extra"; key: string; value: unknown }
  | { kind: "whole"; value: unknown }
  | { kind: "raw"; text: string }
  | { kind: "truncated"; cut: number }
  | { kind: "deep"; json: string }
  | { kind: "deep-field"; index: number; json: string };

export const bodyCase: fc.Arbitrary<BodyCase> = fc.oneof(
  { arbitrary: fc.constant({ kind: "valid" as const }), weight: 4 },
  { arbitrary: fc.constant({ kind: "empty" as const }), weight: 1 },
  { arbitrary: fc.nat().map((index) => ({ kind: "drop" as const, index })), weight: 2 },
  { arbitrary: fc.record({ index: fc.nat(), value }).map((r) => ({ kind: "replace" as const, ...r })), weight: 6 },
  { arbitrary: fc.record({ key: fc.oneof(fc.string({ maxLength: 10 }), nasty), value }).map((r) => ({ kind: "extra" as const, ...r })), weight: 2 },
  { arbitrary: value.map((v) => ({ kind: "whole" as const, value: v })), weight: 2 },
  { arbitrary: text.map((t) => ({ kind: "raw" as const, text: t })), weight: 2 },
  { arbitrary: fc.nat().map((cut) => ({ kind: "truncated" as const, cut })), weight: 1 },
  { arbitrary: deepJson.map((json) => ({ kind: "deep" as const, json })), weight: 1 },
  { arbitrary: fc.record({ index: fc.nat(), json: deepJson }).map((r) => ({ kind: "deep-field" as const, ...r })), weight: 1 },
);

/** The JSON value (or raw text) a case turns `sample` into. */
export function applyBody(sample: Record<string, unknown>, c: BodyCase): { json?: unknown; raw?: string } | null {
  const keys = Object.keys(sample);
  const pick = (i: number) => keys[i % Math.max(1, keys.length)];
  switch (c.kind) {
    case "valid": return { json: sample };
    case "empty": return null;
    case "drop": { const copy = { ...sample }; const k = pick(c.index); if (k) delete copy[k]; return { json: copy }; }
    case "replace": { const k = pick(c.index) ?? "x"; return { json: { ...sample, [k]: c.value } }; }
    case "extra": return { json: { ...sample, [c.key]: c.value } };
    case "whole": return { json: c.value };
    case "raw": return { raw: c.text };
    case "truncated": { const s = JSON.stringify(sample); return { raw: s.slice(0, c.cut % Math.max(1, s.length)) }; }
    case "deep": return { raw: c.json };
    case "deep-field": {
      const k = pick(c.index) ?? "x";
      const rest = JSON.stringify({ ...sample, [k]: 0 });
      return { raw: rest.replace(`${JSON.stringify(k)}:0`, `${JSON.stringify(k)}:${c.json}`) };
    }
  }
}

export const contentType = fc.oneof(
  { arbitrary: fc.constant("application/json"), weight: 12 },
  { arbitrary: fc.constant(undefined), weight: 1 },
  { arbitrary: fc.constantFrom(
    "text/plain", "application/x-www-form-urlencoded", "multipart/form-data", "multipart/form-data; boundary=zz",
    "application/json; charset=utf-16", "application/octet-stream", "application/xml", "application/json, text/plain", "\u00ff/\u00ff",
  ), weight: 3 },
);
