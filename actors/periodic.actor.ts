/**
 * Runs one task every `everyMs` (the email digest sweep), one run at a time:
 * while a run is still going at most one tick waits, the rest are dropped. A run
 * that throws is logged and the next tick tries again; the task decides what
 * a failure means (the digest puts its claim back).
 */
import { Actor } from "./kernel";
import { log } from "../src/lib/log";

type Msg = { type: "tick" };

export class PeriodicActor extends Actor<Msg> {
  private timer?: ReturnType<typeof setInterval>;

  constructor(name: string, private readonly everyMs: number, private readonly task: () => Promise<unknown>) {
    super({ name, mailbox: { capacity: 1, overflow: "drop-oldest" } });
  }

  protected override onStart() {
    this.timer = setInterval(() => this.accepting && this.tell({ type: "tick" }), this.everyMs);
    this.timer.unref?.();
  }

  protected override onStop() {
    clearInterval(this.timer);
  }

  protected async handle() {
    try {
      await this.task();
    } catch (err) {
      log.warn({ err, actor: this.name }, "periodic task failed; retried on the next tick");
    }
  }
}
