/**
 * Publishes to a channel of its own every few seconds and times the round
 * trip through the broker. /ready fails when no round trip completed within
 * `staleMs`: a subscriber connection that silently stopped delivering shows
 * up here before users notice missing messages.
 */
import { Actor } from "./kernel/index";
import type { Broker, Unsubscribe } from "../src/engine/types";

type Msg = { type: "tick" } | { type: "echo"; sentAt: number };

export class CanaryActor extends Actor<Msg> {
  private unsubscribe: Unsubscribe | null = null;
  private timer?: ReturnType<typeof setInterval>;
  lastRoundTripMs: number | null = null;
  lastOkAt = 0;

  constructor(private readonly broker: Broker, private readonly channel: string, private readonly everyMs = 2000) {
    super({ name: "canary", mailbox: { capacity: 8, overflow: "drop-oldest" } });
  }

  protected override async onStart() {
    this.unsubscribe = await this.broker.subscribe(this.channel, (payload) => {
      if (this.accepting) this.tell({ type: "echo", sentAt: Number(payload) });
    });
    this.timer = setInterval(() => this.accepting && this.tell({ type: "tick" }), this.everyMs);
    this.timer.unref?.();
    this.tell({ type: "tick" });
  }

  protected override async onStop() {
    clearInterval(this.timer);
    await this.unsubscribe?.();
  }

  protected async handle(msg: Msg) {
    if (msg.type === "tick") {
      // A failed publish (Redis down) is not a crash: the staleness check reports it.
      await this.broker.publish(this.channel, String(Date.now())).catch(() => {});
      return;
    }
    this.lastRoundTripMs = Date.now() - msg.sentAt;
    this.lastOkAt = Date.now();
  }

  /** Throws unless a round trip completed within `staleMs`. */
  check(staleMs: number) {
    const age = Date.now() - this.lastOkAt;
    if (age > staleMs) throw new Error(`no pub/sub round trip for ${this.lastOkAt ? `${age} ms` : "ever"}`);
    return { round_trip_ms: this.lastRoundTripMs };
  }
}
