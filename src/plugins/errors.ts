/**
 * Maps every error to {"error": {code, message, details?}}. Validation errors
 * name the field; unknown errors are logged and answered as a bare 500 so no
 * stack trace or SQL ever reaches a client.
 */
import { Elysia } from "elysia";
import { AppError } from "../errors";
import { DATABASE_UNAVAILABLE, isDatabaseUnavailable } from "../db/errors";
import { log } from "../lib/log";

type ValidationLike = { all?: { path?: string; message?: string; summary?: string }[]; message: string };

function validationDetails(error: ValidationLike) {
  const all = (() => {
    try {
      return error.all ?? [];
    } catch {
      return [];
    }
  })();
  return all.slice(0, 10).map((e) => ({
    field: (e.path ?? "").replace(/^\//, "").replaceAll("/", ".") || "(body)",
    message: e.summary ?? e.message ?? "invalid",
  }));
}

export const body = (code: string, message: string, details?: unknown) => ({
  error: details === undefined ? { code, message } : { code, message, details },
});

export const errorsPlugin = new Elysia({ name: "errors" })
  .error({ AppError })
  .onError({ as: "global" }, ({ code, error: raised, set }) => {
    // A custom body parser (file uploads) throws AppErrors; Elysia wraps them in a ParseError.
    const cause = code === "PARSE" ? (raised as { cause?: unknown }).cause : undefined;
    const error = cause instanceof AppError ? cause : raised;
    if (error instanceof AppError) {
      set.status = error.status;
      if (error.headers) Object.assign(set.headers, error.headers);
      return body(error.code, error.message, error.details);
    }
    switch (code) {
      case "VALIDATION": {
        set.status = 400;
        const details = validationDetails(error as unknown as ValidationLike);
        const fields = [...new Set(details.map((d) => d.field))].join(", ");
        return body("validation_failed", `invalid request: ${fields || "malformed input"}`, details);
      }
      case "PARSE":
        set.status = 400;
        return body("malformed_body", "request body could not be parsed (check JSON syntax and Content-Type)");
      case "NOT_FOUND":
        set.status = 404;
        return body("not_found", "no such route");
      case "INVALID_COOKIE_SIGNATURE":
        set.status = 400;
        return body("bad_request", "invalid cookie");
      default: {
        const status = (error as { status?: number })?.status;
        if (typeof status === "number" && status >= 400 && status < 500) {
          set.status = status;
          return body("bad_request", (error as Error).message || "bad request");
        }
        if (isDatabaseUnavailable(error)) {
          // An outage, not a bug: say so and when to retry, like any other 503.
          log.warn({ err: error }, "database unavailable");
          set.status = 503;
          set.headers["retry-after"] = "5";
          return body("unavailable", DATABASE_UNAVAILABLE);
        }
        log.error({ err: error }, "unhandled error");
        set.status = 500;
        return body("internal", "internal server error");
      }
    }
  });
