/**
 * Named token buckets on the engine's RateLimiter (Redis or memory). A call
 * either passes or throws 429 with Retry-After; a limiter outage fails open,
 * because refusing every login while Redis restarts would be worse.
 */
import { TooManyRequests } from "../errors";
import { log } from "../lib/log";
import type { RateLimiter } from "../engine/types";
import { rateLimited } from "./metrics";

export type Bucket = { capacity: number; refillPerSec: number };
export type RateLimit = (scope: string, id: string, cost?: number) => Promise<void>;
export type RefundableRateLimit = RateLimit & {
  /** Returns tokens a call took, for takes that turn out not to count (a correct password). Best effort. */
  refund(scope: string, id: string, cost?: number): Promise<void>;
};

// Keyed per IP (register, login-ip, refresh) or per user (the rest); README "Rate limits" lists them.
export const DEFAULT_BUCKETS: Record<string, Bucket> = {
  register: { capacity: 10, refillPerSec: 10 / 3600 },
  "login-ip": { capacity: 30, refillPerSec: 30 / 60 },
  "login-account": { capacity: 10, refillPerSec: 10 / 300 },
  refresh: { capacity: 60, refillPerSec: 1 },
  send: { capacity: 30, refillPerSec: 10 },
  typing: { capacity: 10, refillPerSec: 2 },
  submit: { capacity: 10, refillPerSec: 10 / 60 },
  run: { capacity: 20, refillPerSec: 20 / 60 },
  upload: { capacity: 20, refillPerSec: 20 / 60 },
  // What fans out to other people's sockets, or replays history. Sized so a normal client never
  // meets them: a read marker per message seen, a resume per conversation after a reconnect, a tab
  // reconnecting now and then; rooms are created and joined by hand.
  read: { capacity: 30, refillPerSec: 5 },
  resume: { capacity: 60, refillPerSec: 1 },
  "ws-connect": { capacity: 20, refillPerSec: 12 / 60 },
  "room-create": { capacity: 10, refillPerSec: 1 / 60 },
  "room-join": { capacity: 30, refillPerSec: 6 / 60 },
};

export function createRateLimit(limiter: RateLimiter, buckets: Record<string, Bucket> = DEFAULT_BUCKETS): RefundableRateLimit {
  const take = async (scope: string, id: string, cost = 1) => {
    const bucket = buckets[scope];
    if (!bucket) return;
    let res;
    try {
      res = await limiter.take(scope, id, { ...bucket, cost });
    } catch (err) {
      log.warn({ err, scope }, "rate limiter unavailable; allowing request");
      return;
    }
    if (!res.allowed) {
      rateLimited.inc({ scope });
      throw new TooManyRequests(res.retryAfterMs, scope === "send" ? "messages" : "requests");
    }
  };
  const refund = async (scope: string, id: string, cost = 1) => {
    const bucket = buckets[scope];
    if (!bucket) return;
    // Failing to give a token back only makes the limit stricter for a while; never fail the request.
    await limiter.refund(scope, id, { ...bucket, cost }).catch((err) => log.warn({ err, scope }, "rate limiter refund failed"));
  };
  return Object.assign(take, { refund });
}

/** Every bucket scaled by `factor` (RATE_LIMIT_SCALE), for load tests and trusted deployments. */
export function scaledBuckets(factor: number, buckets: Record<string, Bucket> = DEFAULT_BUCKETS): Record<string, Bucket> {
  return Object.fromEntries(Object.entries(buckets).map(([k, b]) => [k, { capacity: Math.max(1, Math.round(b.capacity * factor)), refillPerSec: b.refillPerSec * factor }]));
}
