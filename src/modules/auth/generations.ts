/**
 * Ending sessions before their access tokens expire. Access tokens are JWTs
 * that carry the user's token generation (`gen`) from when they were issued;
 * a password change raises `users.token_generation`, and a token below the
 * current generation is refused (401 token_revoked).
 *
 * Reading PostgreSQL on every request would put a query on the hot path (and
 * make chat depend on PostgreSQL, which it otherwise survives without), so
 * each instance caches a user's generation for CACHE_MS. A change is
 * broadcast on `auth:sessions`, which every instance hears and applies at
 * once; if that broadcast is lost (Redis down), other instances see the new
 * generation when their cache entry expires, within CACHE_MS. The user's
 * sockets are told on `user:{id}` (the socket hub closes them with 4001).
 */
import { eq } from "drizzle-orm";
import type { Db } from "../../db/client";
import { users } from "../../db/schema";
import { isDatabaseUnavailable } from "../../db/errors";
import type { Broker, Unsubscribe } from "../../engine/types";
import { sessionsChannel, userChannel } from "../../engine/names";
import { log } from "../../lib/log";

export const GENERATION_CACHE_MS = 10_000;
const MAX_CACHED = 100_000;

/** What the socket hub hears on `user:{id}` when a user's sessions are revoked. */
export type SessionsRevoked = { type: "session.revoked"; generation: number; except_session: string | null };

export class TokenGenerations {
  private readonly cache = new Map<string, { gen: number; until: number }>();

  constructor(private readonly db: Db, private readonly broker: Broker, private readonly cacheMs = GENERATION_CACHE_MS) {}

  /** The user's current generation: cached, or from PostgreSQL when `fresh` or the entry expired. */
  async current(userId: string, fresh = false): Promise<number> {
    const hit = this.cache.get(userId);
    if (!fresh && hit && hit.until > Date.now()) return hit.gen;
    let gen: number;
    try {
      const [row] = await this.db.select({ gen: users.tokenGeneration }).from(users).where(eq(users.id, userId)).limit(1);
      gen = row?.gen ?? 0; // a missing account is for the route to answer
    } catch (err) {
      // PostgreSQL unreachable: the last generation seen (else none) holds, so chat keeps working on Redis.
      if (isDatabaseUnavailable(err)) return hit?.gen ?? 0;
      throw err;
    }
    this.remember(userId, gen);
    return gen;
  }

  /** Records a generation heard or written; never lowers one already known. */
  remember(userId: string, gen: number) {
    if (this.cache.size >= MAX_CACHED) this.cache.clear();
    const known = this.cache.get(userId)?.gen ?? 0;
    this.cache.set(userId, { gen: Math.max(known, gen), until: Date.now() + this.cacheMs });
  }

  /**
   * Tells every instance that tokens below `generation` are dead, and the user's sockets to close
   * (except those of `exceptSession`, the session that made the change). Best effort: the change is
   * already committed, and the cache expiry and the tokens' own expiry bound what a lost event costs.
   */
  async revoked(userId: string, generation: number, exceptSession: string | null): Promise<void> {
    this.remember(userId, generation);
    const event: SessionsRevoked = { type: "session.revoked", generation, except_session: exceptSession };
    const sends = [
      this.broker.publish(sessionsChannel, JSON.stringify({ user_id: userId, generation })),
      this.broker.publish(userChannel(userId), JSON.stringify(event)),
    ];
    for (const r of await Promise.allSettled(sends)) {
      if (r.status === "rejected") log.warn({ err: r.reason, userId }, "session revocation could not be broadcast; other instances notice within the cache time");
    }
  }

  /** Applies other instances' revocations to this one's cache (started by the composition root). */
  watch(): Promise<Unsubscribe> {
    return this.broker.subscribe(sessionsChannel, (payload) => {
      const e = JSON.parse(payload) as { user_id?: unknown; generation?: unknown };
      if (typeof e.user_id === "string" && typeof e.generation === "number") this.remember(e.user_id, e.generation);
    });
  }
}
