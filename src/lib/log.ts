/**
 * Structured JSON logs (pino) on stderr so stdout stays free for command
 * output. The level comes from LOG_LEVEL; `configureLog` adds the instance id.
 */
import pino from "pino";

export let log = pino({ level: process.env.LOG_LEVEL ?? "info", base: undefined }, pino.destination(2));

export function configureLog(level: string, fields: Record<string, unknown> = {}) {
  log = pino({ level, base: fields }, pino.destination(2));
}
