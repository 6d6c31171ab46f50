/** Presence, result cache and rate limiter in process; see the ports in ../types.ts. */
import { checkRule } from "../rate-rule";
import type { Presence, RateLimitDecision, RateLimiter, RateLimitRule, ResultCache } from "../types";

/** A string map whose entries expire like Redis keys with a TTL (checked on read). */
export class ExpiringMap<V> {
  private readonly entries = new Map<string, { value: V; expiresAt: number }>();

  set(key: string, value: V, ttlMs: number): void {
    this.entries.delete(key); // re-insert so iteration order follows recency
    this.entries.set(key, { value, expiresAt: Date.now() + ttlMs });
    this.sweep(8);
  }

  get(key: string): V | undefined {
    const e = this.entries.get(key);
    if (!e) return undefined;
    if (e.expiresAt <= Date.now()) {
      this.entries.delete(key);
      return undefined;
    }
    return e.value;
  }

  /** Replaces the value of a live entry, keeping its expiry; false when there is none. */
  replace(key: string, value: V): boolean {
    const e = this.entries.get(key);
    if (!e || e.expiresAt <= Date.now()) return false;
    e.value = value;
    return true;
  }

  delete(key: string): void {
    this.entries.delete(key);
  }

  /** Drops a few expired entries from the oldest end, so unread keys don't pile up. */
  private sweep(budget: number): void {
    const now = Date.now();
    for (const [key, e] of this.entries) {
      if (budget-- <= 0) return;
      if (e.expiresAt <= now) this.entries.delete(key);
    }
  }
}

export class MemoryPresence implements Presence {
  private readonly flags = new ExpiringMap<true>();

  async setOnline(userId: string, ttlSec: number): Promise<void> {
    this.flags.set(userId, true, ttlSec * 1000);
  }

  async setOffline(userId: string): Promise<void> {
    this.flags.delete(userId);
  }

  async online(userIds: string[]): Promise<Set<string>> {
    return new Set(userIds.filter((id) => this.flags.get(id) !== undefined));
  }
}

export class MemoryResultCache implements ResultCache {
  /** Keyed by job id; shared with the queue of the same name so complete() can write results. */
  constructor(readonly store = new ExpiringMap<string>()) {}

  async set(jobId: string, json: string, ttlSec: number): Promise<void> {
    this.store.set(jobId, json, ttlSec * 1000);
  }

  async get(jobId: string): Promise<string | null> {
    return this.store.get(jobId) ?? null;
  }
}

type Bucket = { tokens: number; ts: number };

export class MemoryRateLimiter implements RateLimiter {
  private readonly buckets = new ExpiringMap<Bucket>();

  async take(scope: string, id: string, rule: RateLimitRule): Promise<RateLimitDecision> {
    return this.takeNow(scope, id, rule);
  }

  /** Synchronous, so the chat store can take a sender's token inside its (equally synchronous) append. */
  takeNow(scope: string, id: string, rule: RateLimitRule): RateLimitDecision {
    const cost = checkRule(rule);
    const key = `${scope}:${id}`;
    const now = Date.now();
    const b = this.buckets.get(key) ?? { tokens: rule.capacity, ts: now };
    let tokens = Math.min(rule.capacity, b.tokens + (Math.max(0, now - b.ts) * rule.refillPerSec) / 1000);
    let retryAfterMs = 0;
    const allowed = tokens >= cost;
    if (allowed) tokens -= cost;
    else retryAfterMs = Math.ceil(((cost - tokens) * 1000) / rule.refillPerSec);
    const fullAfterMs = Math.ceil((rule.capacity * 1000) / rule.refillPerSec) + 1000;
    this.buckets.set(key, { tokens, ts: now }, fullAfterMs);
    return { allowed, remaining: Math.floor(tokens), retryAfterMs };
  }

  async refund(scope: string, id: string, rule: RateLimitRule): Promise<void> {
    const cost = checkRule(rule);
    const key = `${scope}:${id}`;
    const b = this.buckets.get(key);
    if (!b) return; // an expired bucket is full already
    const now = Date.now();
    const tokens = Math.min(rule.capacity, b.tokens + (Math.max(0, now - b.ts) * rule.refillPerSec) / 1000 + cost);
    this.buckets.set(key, { tokens, ts: now }, Math.ceil((rule.capacity * 1000) / rule.refillPerSec) + 1000);
  }
}
