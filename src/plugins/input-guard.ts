/**
 * Refuses, before validation, four kinds of input the schemas cannot express:
 * NUL characters (PostgreSQL text cannot store U+0000, so they would surface
 * as a 500, or as a chat message the persister can never write), unpaired
 * UTF-16 surrogates (no UTF-8 form either: a text parameter silently turns
 * them into U+FFFD, and the persister's JSON batch was refused by PostgreSQL,
 * so an acknowledged chat message was dropped; WS fuzzing, seed 1341020241), nesting
 * deeper than MAX_DEPTH (Elysia's validation error builder recurses into the
 * value and overflows the stack), and nested objects with an own "toString"
 * key (see below). Chat socket frames go through the same check.
 * Every body of this API is an object: Elysia would turn any other value into
 * {} before validating it (so a wrong-typed body would pass as an empty one).
 */
import { Elysia } from "elysia";
import { AppError } from "../errors";

export const MAX_DEPTH = 32;

export type InputProblem = { field: string; message: string };

const isPlainObject = (v: unknown): v is Record<string, unknown> =>
  v !== null && typeof v === "object" && !Array.isArray(v) && [Object.prototype, null].includes(Object.getPrototypeOf(v));

/**
 * `{"toString": ...}` decoded from JSON cannot be turned into a string: its own
 * toString is not callable and Object.prototype.valueOf returns the object, so
 * String(v) and `${v}` throw a TypeError. Outside production, Elysia's
 * ValidationError constructor writes "... but found: ${value}" for a value of
 * the wrong type, so such a value in a string field threw while the 400 was
 * being built and became a 500 (HTTP fuzzing, POST /auth/login, seed 971826535).
 * Only nested values are ever put in that message (every root is an object
 * checked against an object schema), so only they are refused: `?toString=1`
 * stays an ignored query key.
 */
const UNPRINTABLE_KEY = "toString";

/** What a string or key may not hold: NUL, or a surrogate half without its pair. */
function badText(s: string): string | null {
  if (s.includes("\u0000")) return "NUL (\\u0000) characters";
  if (!s.isWellFormed()) return "unpaired UTF-16 surrogates (not well-formed Unicode)";
  return null;
}

/** The first bad string, over-deep nesting or unprintable object in a decoded value; iterative, so depth cannot hurt it. */
export function hostileInput(value: unknown): InputProblem | null {
  const stack: [unknown, string, number][] = [[value, "", 0]];
  while (stack.length > 0) {
    const [v, path, depth] = stack.pop()!;
    if (typeof v === "string") {
      const bad = badText(v);
      if (bad) return { field: path || "(body)", message: `must not contain ${bad}` };
    } else if (Array.isArray(v) || isPlainObject(v)) {
      if (depth >= MAX_DEPTH) return { field: path || "(body)", message: `nested deeper than ${MAX_DEPTH} levels` };
      if (depth > 0 && Object.hasOwn(v, UNPRINTABLE_KEY)) return { field: path, message: `must not be an object with a "${UNPRINTABLE_KEY}" key` };
      for (const [k, child] of Object.entries(v)) {
        const bad = badText(k);
        if (bad) return { field: path || "(body)", message: `keys must not contain ${bad}` };
        stack.push([child, path ? `${path}.${k}` : k, depth + 1]);
      }
    }
  }
  return null;
}

export const inputGuardPlugin = new Elysia({ name: "input-guard" })
  .onTransform({ as: "global" }, ({ body, query, params }) => {
    if (body !== undefined && !isPlainObject(body)) {
      throw new AppError(400, "validation_failed", "invalid request: the body must be a JSON object", [{ field: "(body)", message: "expected an object" }]);
    }
    for (const part of [params, query, body]) {
      const bad = hostileInput(part);
      if (bad) throw new AppError(400, "validation_failed", `invalid request: ${bad.field}`, [bad]);
    }
  });
