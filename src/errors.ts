/**
 * The one error base of the application. Anything thrown with a `code` and an
 * HTTP `status` reaches the client as {"error": {code, message, details?}};
 * everything else becomes a 500 without internals (see plugins/errors.ts).
 */
export class AppError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
    readonly details?: unknown,
    readonly headers?: Record<string, string>,
  ) {
    super(message);
    this.name = new.target.name;
  }
}

export class BadRequest extends AppError {
  constructor(message: string, details?: unknown) {
    super(400, "bad_request", message, details);
  }
}
export class Unauthorized extends AppError {
  constructor(message = "authentication required", code = "unauthorized") {
    super(401, code, message, undefined, { "WWW-Authenticate": "Bearer" });
  }
}
export class Forbidden extends AppError {
  constructor(message = "not allowed") {
    super(403, "forbidden", message);
  }
}
export class NotFound extends AppError {
  constructor(what = "resource") {
    super(404, "not_found", `${what} not found`);
  }
}
export class Conflict extends AppError {
  constructor(message: string, details?: unknown) {
    super(409, "conflict", message, details);
  }
}
export class PayloadTooLarge extends AppError {
  constructor(limit: number, what = "request body") {
    super(413, "payload_too_large", `${what} exceeds ${limit} bytes`, { limit });
  }
}
export class UnsupportedMediaType extends AppError {
  constructor(message: string, details?: unknown) {
    super(415, "unsupported_media_type", message, details);
  }
}
export class TooManyRequests extends AppError {
  constructor(retryAfterMs: number, what = "requests") {
    const sec = Math.max(1, Math.ceil(retryAfterMs / 1000));
    super(429, "rate_limited", `too many ${what}; retry in ${sec} s`, { retry_after: sec }, { "Retry-After": String(sec) });
  }
}
export class ServiceUnavailable extends AppError {
  constructor(message: string) {
    super(503, "unavailable", message, undefined, { "Retry-After": "5" });
  }
}
