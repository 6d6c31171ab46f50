/**
 * Removes credentials from text that is about to be written somewhere people
 * read (log lines, start-up errors). It works on the final text rather than on
 * known fields because secrets arrive in places nobody planned for: a driver
 * error quoting its connection URL, a fetch error's `path`, a request URL with
 * `?token=`. Every replacement is JSON-safe, so a pino line stays valid JSON.
 */

export const REDACTED = "[REDACTED]";

const RULES: [RegExp, string][] = [
  // scheme://user:password@host -> keep the user and host so the line still says where it went.
  [/\b([a-z][a-z0-9+.-]*:\/\/)([^\s:@/"'\\]*):([^\s@/"'\\]+)@/gi, `$1$2:${REDACTED}@`],
  // ?token=..., &access_token=..., &refresh_token=... in URLs (the WebSocket query form).
  [/([?&;][a-z_]*token=)[^&#,\s"'\\]+/gi, `$1${REDACTED}`],
  // Authorization: Bearer <token>.
  [/\b(bearer\s+)[a-z0-9._~+/-]{16,}=*/gi, `$1${REDACTED}`],
  // Any JWT (every access token is one), e.g. the Sec-WebSocket-Protocol form "bearer, <jwt>".
  [/\beyJ[a-z0-9_-]+\.eyJ[a-z0-9_-]+\.[a-z0-9_-]*/gi, REDACTED],
];

/** `text` with URL passwords, token query values, bearer tokens and JWTs replaced by [REDACTED]. */
export function redactSecrets(text: string): string {
  let out = text;
  for (const [pattern, replacement] of RULES) out = out.replace(pattern, replacement);
  return out;
}

/** Names of settings whose values are never shown, not even in a "this value is invalid" message. */
export const isSecretName = (name: string) => /URL|SECRET|KEY|PASSWORD|TOKEN/i.test(name);
