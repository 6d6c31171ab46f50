/**
 * Refuses, before validation, two kinds of input the schemas cannot express:
 * NUL characters (PostgreSQL text cannot store U+0000, so they would surface
 * as a 500, or as a chat message the persister can never write) and nesting
 * deeper than MAX_DEPTH (Elysia's validation error builder recurses into the
 * value and overflows the stack). Chat socket frames go through the same check.
 * Every body of this API is an object: Elysia would turn any other value into
 * {} before validating it (so a wrong-typed body would pass as an empty one).
 */
import { Elysia } from "elysia";
import { AppError } from "../errors";

export const MAX_DEPTH = 32;

export type InputProblem = { field: string; message: string };

const isPlainObject = (v: unknown): v is Record<string, unknown> =>
  v !== null && typeof v === "object" && !Array.isArray(v) && [Object.prototype, null].includes(Object.getPrototypeOf(v));

/** The first NUL character or over-deep nesting in a decoded value; iterative, so depth cannot hurt it. */
export function hostileInput(value: unknown): InputProblem | null {
  const stack: [unknown, string, number][] = [[value, "", 0]];
  while (stack.length > 0) {
    const [v, path, depth] = stack.pop()!;
    if (typeof v === "string") {
      if (v.includes("\u0000")) return { field: path || "(body)", message: "must not contain NUL (\\u0000) characters" };
    } else if (Array.isArray(v) || isPlainObject(v)) {
      if (depth >= MAX_DEPTH) return { field: path || "(body)", message: `nested deeper than ${MAX_DEPTH} levels` };
      for (const [k, child] of Object.entries(v)) {
        if (k.includes("\u0000")) return { field: path || "(body)", message: "keys must not contain NUL (\\u0000) characters" };
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
