/**
 * Which outbox shards a persister reads. Each shard has a lease key holding
 * its reader's consumer name (SET NX PX, renewed while the reader works), so
 * exactly one live persister reads a shard and a shard's order is kept. The
 * persisters announce themselves in `chat:persist:persisters` (heartbeats);
 * each holds about shards / live persisters, giving extras back and taking
 * free ones, so a new instance gets a share and a dead one's shards (their
 * leases expire) are taken over. Lease times use the server's key expiry;
 * the heartbeats use the instances' clocks (kept in sync, as for job leases).
 */
import { guard, LuaScript, type Conn } from "./connection";
import * as keys from "./keys";

// KEYS: lease. ARGV: consumer, ms. Renews the lease only if this consumer holds it.
const RENEW = new LuaScript(`
if redis.call('GET', KEYS[1]) ~= ARGV[1] then return 0 end
redis.call('PEXPIRE', KEYS[1], ARGV[2])
return 1
`);

// KEYS: lease. ARGV: consumer. Gives the lease back only if this consumer holds it.
const RELEASE = new LuaScript(`
if redis.call('GET', KEYS[1]) ~= ARGV[1] then return 0 end
return redis.call('DEL', KEYS[1])
`);

export class ShardLeases {
  private readonly held = new Set<number>();
  private refreshedAt = 0;
  /** Persisters alive at the last look (this one included). */
  private live = 1;

  constructor(
    private readonly conn: Conn,
    readonly consumer: string,
    /** Every shard index there is to read (the legacy stream included on a single Redis). */
    private readonly shards: number[],
    private readonly leaseMs: number,
  ) {}

  /** The shards this consumer holds now, renewing and rebalancing at most every third of a lease. */
  async current(): Promise<number[]> {
    if (Date.now() - this.refreshedAt >= this.leaseMs / 3) await this.refresh();
    return [...this.held].sort((a, b) => a - b);
  }

  /**
   * Each step stands alone: while one master fails over, the shards on the others keep their reader
   * (a lease that cannot be renewed now is kept; if it expired meanwhile, the next renewal drops it).
   */
  private async refresh(): Promise<void> {
    const now = Date.now();
    try {
      this.live = await guard(this.conn, async (c) => {
        await c.zadd(keys.chatPersisters, now, this.consumer);
        await c.zremrangebyscore(keys.chatPersisters, "-inf", now - this.leaseMs);
        return c.zcard(keys.chatPersisters);
      });
    } catch (err) {
      // The registry's master is failing over: keep the count we had and read what we hold. Holding
      // nothing, there is nothing to read either: the caller hears that the store is unavailable.
      if (this.held.size === 0) throw err;
    }
    await Promise.all([...this.held].map(async (shard) => {
      const ok = await guard(this.conn, (c) => RENEW.run(c, [keys.chatPersistLease(shard)], [this.consumer, this.leaseMs])).catch(() => null);
      if (ok === 0) this.held.delete(shard);
    }));
    const fair = Math.ceil(this.shards.length / Math.max(1, this.live));
    for (const shard of [...this.held].slice(fair)) await this.give(shard).catch(() => {});
    // Start the search at a place of our own, so persisters starting together try different shards first.
    const start = Bun.hash.crc32(this.consumer) % this.shards.length;
    for (let i = 0; i < this.shards.length && this.held.size < fair; i++) {
      const shard = this.shards[(start + i) % this.shards.length]!;
      if (this.held.has(shard)) continue;
      const took = await guard(this.conn, (c) => c.set(keys.chatPersistLease(shard), this.consumer, "PX", this.leaseMs, "NX")).catch(() => null);
      if (took === "OK") this.held.add(shard);
    }
    this.refreshedAt = now;
  }

  private async give(shard: number): Promise<void> {
    this.held.delete(shard);
    await guard(this.conn, (c) => RELEASE.run(c, [keys.chatPersistLease(shard)], [this.consumer]));
  }

  /** Gives every lease back (a clean stop), so others take the shards over at once; best effort. */
  async releaseAll(): Promise<void> {
    await Promise.all([...this.held].map((s) => this.give(s).catch(() => {})));
    await guard(this.conn, (c) => c.zrem(keys.chatPersisters, this.consumer)).catch(() => {});
  }
}
