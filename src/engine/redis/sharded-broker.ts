/**
 * Broker on a Redis Cluster; see the port in ../types.ts for the guarantees.
 *
 * Tagged channels (`chat:{<id>}`, `user:{<id>}`) are sharded: SPUBLISH goes
 * to the master owning the channel's slot only, and this broker SSUBSCRIBEs
 * there, on one subscriber connection per master. Untagged channels every
 * instance needs (`auth:sessions`, `problems:catalog`) stay classic
 * PUBLISH/SUBSCRIBE, which the cluster forwards to every node; they are
 * subscribed on the owner of slot 0.
 *
 * As in broker.ts the handler table (handler-table.ts) is the truth. Each channel is live on at
 * most one node; when a node connection drops (failover), a slot moves (the
 * server unsubscribes us: ioredis emits "moved") or the slot map changes,
 * `heal` reloads the slot map, moves each channel to its current owner and
 * then tells the onReconnect callbacks, because events published meanwhile
 * were missed (the conversation actors' followers resync by seq).
 */
import type Redis from "ioredis";
import type { Cluster } from "ioredis";
import type { Broker, Unsubscribe } from "../types";
import { closeQuietly, guard, slotOf } from "./connection";
import { HandlerTable } from "./handler-table";

type Handler = (payload: string) => void;

const isSharded = (channel: string) => /\{[^}]+\}/.test(channel);
/** How often live channels are checked against the slot map (and lost ones retried). */
const CHECK_MS = 500;

export class ShardedBroker implements Broker {
  private readonly table = new HandlerTable();
  /** Channel -> the node ("host:port") it is subscribed on now. */
  private readonly live = new Map<string, string>();
  private readonly nodes = new Map<string, Redis>();
  private readonly timer: ReturnType<typeof setInterval>;
  /** Something was lost since the last heal: tell the callbacks once everything is live again. */
  private lost = false;
  private healing: Promise<void> | null = null;
  private closed = false;

  constructor(
    private readonly cmd: Cluster,
    private readonly openNode: (nodeKey: string) => Redis,
  ) {
    this.timer = setInterval(() => void this.check(), CHECK_MS);
    this.timer.unref?.();
  }

  async publish(channel: string, payload: string): Promise<void> {
    await guard(this.cmd, (c) => (isSharded(channel) ? c.spublish(channel, payload) : c.publish(channel, payload)));
  }

  subscribe(channel: string, handler: Handler): Promise<Unsubscribe> {
    return this.table.add(channel, handler, (ch) => this.reconcile(ch));
  }

  channels(): string[] {
    return this.table.channels();
  }

  onReconnect(cb: () => void): () => void {
    return this.table.onReconnect(cb);
  }

  close(): void {
    this.closed = true;
    clearInterval(this.timer);
    for (const conn of this.nodes.values()) closeQuietly(conn);
    this.nodes.clear();
  }

  /** The master serving the channel's slot, from the client's slot map (null while it has none). */
  private ownerOf(channel: string): string | null {
    return this.cmd.slots[isSharded(channel) ? slotOf(channel) : 0]?.[0] ?? null;
  }

  private node(nodeKey: string): Redis {
    let conn = this.nodes.get(nodeKey);
    if (conn) return conn;
    conn = this.openNode(nodeKey);
    const mine = conn;
    this.nodes.set(nodeKey, mine);
    mine.on("message", (ch: string, p: string) => this.table.deliver(ch, p));
    mine.on("smessage", (ch: string, p: string) => this.table.deliver(ch, p));
    // The node failed or gave a slot away: what was live there is not any more.
    const drop = () => {
      if (this.nodes.get(nodeKey) !== mine) return;
      for (const [ch, at] of this.live) if (at === nodeKey) this.live.delete(ch), (this.lost = true);
      void this.heal();
    };
    mine.on("close", drop);
    mine.on("moved", drop);
    return mine;
  }

  /** Brings one channel's subscription in line with the handler table and the slot map; never throws. */
  private reconcile(channel: string): Promise<void> {
    return this.table.serial(channel, async () => {
      if (this.closed) return;
      const wanted = this.table.wanted(channel);
      const at = this.live.get(channel);
      const owner = wanted ? this.ownerOf(channel) : null;
      if (at === (owner ?? undefined)) return;
      const sharded = isSharded(channel);
      try {
        if (at !== undefined) {
          this.live.delete(channel);
          const old = this.nodes.get(at);
          if (old?.status === "ready") await (sharded ? old.sunsubscribe(channel) : old.unsubscribe(channel));
        }
        if (owner) {
          const conn = this.node(owner);
          if (conn.status !== "ready") await new Promise<void>((r) => { conn.once("ready", r); setTimeout(r, 1000); });
          await guard(conn, (c) => (sharded ? c.ssubscribe(channel) : c.subscribe(channel)));
          this.live.set(channel, owner);
        }
      } catch {
        // A node down or a slot on the move: check() retries once the slot map has caught up.
        this.lost ||= wanted;
      }
    });
  }

  /** A connection to a node that owns none of our channels (e.g. a failed master) stops reconnecting. */
  private closeUnused(): void {
    const used = new Set([...this.live.values(), ...this.channels().map((ch) => this.ownerOf(ch))]);
    for (const [key, conn] of this.nodes) {
      if (used.has(key)) continue;
      this.nodes.delete(key);
      closeQuietly(conn);
    }
  }

  private async check(): Promise<void> {
    if (this.closed) return;
    const stale = this.channels().some((ch) => this.live.get(ch) !== this.ownerOf(ch));
    if (stale || this.lost) await this.heal();
  }

  /** Reloads the slot map, moves every channel to its owner, then tells the callbacks if anything was lost. */
  private heal(): Promise<void> {
    this.healing ??= (async () => {
      // Keeps the map it has when the refresh fails or hangs; the next check tries again.
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, 1000);
        this.cmd.refreshSlotsCache(() => (clearTimeout(timer), resolve()));
      });
      await Promise.all(this.channels().map((ch) => this.reconcile(ch)));
      this.closeUnused();
      const allLive = this.channels().every((ch) => this.live.has(ch));
      if (this.lost && allLive) {
        this.lost = false;
        this.table.reconnected();
      }
    })().finally(() => (this.healing = null));
    return this.healing;
  }
}
