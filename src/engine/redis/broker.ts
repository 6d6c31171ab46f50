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
import { HandlerTable } from "./handler-table";

type Handler = (payload: string) => void;

export class RedisBroker implements Broker {
  private readonly table = new HandlerTable();
  /** Channels the current subscriber connection is subscribed to. */
  private readonly live = new Set<string>();

  constructor(
    private readonly pub: Redis,
    private readonly sub: Redis,
  ) {
    sub.on("message", (channel: string, payload: string) => this.table.deliver(channel, payload));
    sub.on("close", () => this.live.clear());
    sub.on("ready", () => void this.onReady());
  }

  async publish(channel: string, payload: string): Promise<void> {
    await guard(this.pub, (c) => c.publish(channel, payload));
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

  /**
   * Brings the server-side subscription of `channel` in line with the handler
   * table. When Redis is down it leaves things as they are; `onReady` finishes
   * the job after the reconnect.
   */
  private reconcile(channel: string): Promise<void> {
    return this.table.serial(channel, async () => {
      const wanted = this.table.wanted(channel);
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
    });
  }

  private async onReady(): Promise<void> {
    // Every 'ready' seen here follows a time without a connection (the engine
    // is built after the first attempt settled), so callers must resync.
    await Promise.all(this.channels().map((ch) => this.reconcile(ch)));
    this.table.reconnected();
  }
}
