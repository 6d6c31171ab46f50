/**
 * Acknowledgements of committed outbox batches, sent behind the next commit
 * instead of in front of it. One ack runs at a time and takes every id
 * committed meanwhile. An ack that fails keeps its ids for the next attempt:
 * the entries stay pending in Redis until then (or until claimStale gives them
 * to someone after a crash), and writing them again is a no-op in PostgreSQL.
 * Never called before the commit: only committed ids are pushed.
 */
import { log } from "../src/lib/log";

export class AckQueue {
  private waiting: string[] = [];
  private running: Promise<void> | null = null;

  constructor(private readonly ack: (ids: string[]) => Promise<void>) {}

  /** Ids whose batch has committed. */
  push(ids: string[]): void {
    if (ids.length === 0) return;
    this.waiting.push(...ids);
    this.running ??= this.drain();
  }

  /** Resolves once every id pushed so far was acknowledged or its ack failed (the ids are then kept). */
  async settle(): Promise<void> {
    while (this.running) await this.running;
    // One more try for ids whose ack failed before (none normally).
    if (this.waiting.length) await (this.running = this.drain());
  }

  private async drain(): Promise<void> {
    try {
      while (this.waiting.length) {
        const ids = this.waiting;
        this.waiting = [];
        try {
          await this.ack(ids);
        } catch (err) {
          // Kept for the next push or settle; the loop stops so a Redis outage does not spin here.
          this.waiting = ids.concat(this.waiting);
          log.warn({ err, ids: ids.length }, "persister: acknowledgement failed; will retry");
          return;
        }
      }
    } finally {
      this.running = null;
    }
  }
}
