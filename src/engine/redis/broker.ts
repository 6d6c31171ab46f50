/**
 * Broker on Redis Pub/Sub; see the port in ../types.ts for the guarantees.
 *
 * One subscriber connection per engine. The local handler table is the truth:
 * every (un)subscribe reconciles the server side with it, one channel at a
 * time, and after a reconnect every channel in it is subscribed again (a
 * fresh connection has no subscriptions), so channels added or dropped
 * while Redis was down end up right as well.
 */
import type Redis from "ioredis";
import type { Broker, Unsubscribe } from "../types";
import { guard } from "./connection";

type Handler = (payload: string) => void;

export class RedisBroker implements Broker {
  private readonly handlers = new Map<string, Set<Handler>>();
  /** Channels the current subscriber connection is subscribed to. */
  private readonly live = new Set<string>();
  /** Per-channel chain of reconciliations, so SUBSCRIBE/UNSUBSCRIBE never interleave. */
  private readonly chains = new Map<string, Promise<void>>();
  private readonly reconnectCallbacks = new Set<() => void>();

  constructor(
    private readonly pub: Redis,
    private readonly sub: Redis,
  ) {
    sub.on("message", (channel: string, payload: string) => this.deliver(channel, payload));
    sub.on("close", () => this.live.clear());
    sub.on("ready", () => void this.onReady());
  }

  async publish(channel: string, payload: string): Promise<void> {
    await guard(this.pub, (c) => c.publish(channel, payload));
  }

  async subscribe(channel: string, handler: Handler): Promise<Unsubscribe> {
    let set = this.handlers.get(channel);
    if (!set) this.handlers.set(channel, (set = new Set()));
    // A wrapper per call, so the same function subscribed twice unsubscribes once each.
    const entry: Handler = (payload) => handler(payload);
    set.add(entry);
    await this.reconcile(channel);
    let done = false;
    return async () => {
      if (done) return;
      done = true;
      const current = this.handlers.get(channel);
      current?.delete(entry);
      if (current && current.size === 0) this.handlers.delete(channel);
      await this.reconcile(channel);
    };
  }

  channels(): string[] {
    return [...this.handlers.keys()];
  }

  onReconnect(cb: () => void): () => void {
    this.reconnectCallbacks.add(cb);
    return () => this.reconnectCallbacks.delete(cb);
  }

  private deliver(channel: string, payload: string): void {
    const set = this.handlers.get(channel);
    if (!set) return;
    for (const handler of set) {
      try {
        handler(payload);
      } catch {
        // One faulty handler must not starve the others of the event.
      }
    }
  }

  /**
   * Brings the server-side subscription of `channel` in line with the handler
   * table. When Redis is down it leaves things as they are; `onReady` finishes
   * the job after the reconnect.
   */
  private reconcile(channel: string): Promise<void> {
    const step = async () => {
      const wanted = this.handlers.has(channel);
      if (wanted === this.live.has(channel) || this.sub.status !== "ready") return;
      try {
        if (wanted) {
          await guard(this.sub, (c) => c.subscribe(channel));
          this.live.add(channel);
        } else {
          await guard(this.sub, (c) => c.unsubscribe(channel));
          this.live.delete(channel);
        }
      } catch {
        // Connection lost mid-way: the 'ready' handler resubscribes from the table.
      }
    };
    const next = (this.chains.get(channel) ?? Promise.resolve()).then(step);
    this.chains.set(channel, next);
    void next.then(() => {
      if (this.chains.get(channel) === next) this.chains.delete(channel);
    });
    return next;
  }

  private async onReady(): Promise<void> {
    // Every 'ready' seen here follows a time without a connection (the engine
    // is built after the first attempt settled), so callers must resync.
    await Promise.all(this.channels().map((ch) => this.reconcile(ch)));
    for (const cb of this.reconnectCallbacks) {
      try {
        cb();
      } catch {
        // Same isolation as message handlers.
      }
    }
  }
}
