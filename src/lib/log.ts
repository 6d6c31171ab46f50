/**
 * Structured JSON logs (pino) on stderr so stdout stays free for command
 * output. The level comes from LOG_LEVEL; `configureLog` adds the instance id.
 * Every finished line passes through redactSecrets: errors carry URLs and
 * request details in fields nobody chose to log (a driver quoting its
 * connection string, a request URL with ?token=), so filtering named fields
 * would miss them.
 */
import pino from "pino";
import { redactSecrets } from "./redact";

const hooks = { streamWrite: redactSecrets };

export let log = pino({ level: process.env.LOG_LEVEL ?? "info", base: undefined, hooks }, pino.destination(2));

export function configureLog(level: string, fields: Record<string, unknown> = {}) {
  log = pino({ level, base: fields, hooks }, pino.destination(2));
}
