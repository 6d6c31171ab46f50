/**
 * The persister's commits, in LANES lanes. A conversation always goes to the
 * same lane (a hash of its id), and each lane commits its parts strictly one
 * after another in the order they were read, so a conversation's entries of
 * batch N+1 never commit before those of batch N (an edit of a message is
 * never applied before the message exists). Lanes share no conversation, so
 * their transactions touch disjoint rows and run side by side: two batches in
 * flight. A part that fails is retried at the head of its lane (later parts
 * wait behind it) until it commits or the lanes are stopped; then what is
 * left stays pending in the outbox for claimStale. A part is acknowledged
 * only after its commit (AckQueue, behind the next commits).
 */
import type { ChatMessage, OutboxEntry } from "../src/engine/types";
import { log } from "../src/lib/log";
import { loopDelay } from "./backoff";
import type { AckQueue } from "./ack-queue";

export const LANES = 2;

type Lane = { parts: OutboxEntry[][]; running: Promise<void> | null; failures: number };

export class CommitLanes {
  private readonly lanes: Lane[] = Array.from({ length: LANES }, () => ({ parts: [], running: null, failures: 0 }));
  private tick = Promise.withResolvers<void>();
  /** Retrying stops after this time (set by stop); before, a lane retries forever. */
  private giveUpAt = Infinity;
  private readonly stopping = Promise.withResolvers<void>();

  constructor(private readonly write: (batch: ChatMessage[]) => Promise<void>, private readonly acks: AckQueue) {}

  /** Splits a batch read from the outbox by lane and queues each part behind that lane's earlier ones. */
  push(batch: OutboxEntry[]): void {
    const parts: OutboxEntry[][] = this.lanes.map(() => []);
    for (const e of batch) parts[Bun.hash.crc32(e.message.conversation_id) % LANES]!.push(e);
    parts.forEach((part, i) => {
      if (part.length === 0) return;
      const lane = this.lanes[i]!;
      lane.parts.push(part);
      lane.running ??= this.drain(lane);
    });
  }

  /** Parts read and not committed in the busiest lane (the reader keeps this at two at most). */
  depth(): number {
    return Math.max(...this.lanes.map((l) => l.parts.length));
  }

  idle(): boolean {
    return this.lanes.every((l) => l.running === null);
  }

  /** Resolves at the next commit or failed attempt in any lane. */
  changed(): Promise<void> {
    return this.tick.promise;
  }

  /** Resolves when every lane has nothing left (committed, or given up after stop). */
  async settled(): Promise<void> {
    for (;;) {
      const running = this.lanes.flatMap((l) => (l.running ? [l.running] : []));
      if (running.length === 0) return;
      await Promise.all(running);
    }
  }

  /** Lanes keep retrying a failing part for at most `ms` more, then leave it (and what follows) in the outbox. */
  async stop(ms: number): Promise<void> {
    this.giveUpAt = Date.now() + ms;
    this.stopping.resolve();
    await this.settled();
  }

  private changedNow() {
    const t = this.tick;
    this.tick = Promise.withResolvers<void>();
    t.resolve();
  }

  private async drain(lane: Lane): Promise<void> {
    try {
      while (lane.parts.length > 0) {
        const part = lane.parts[0]!;
        try {
          await this.write(part.map((e) => e.message));
          lane.parts.shift();
          lane.failures = 0;
          this.acks.push(part.map((e) => e.id));
        } catch (err) {
          const delay = Math.min(loopDelay(++lane.failures), this.giveUpAt - Date.now());
          if (delay <= 0) {
            // Stopping: the parts stay pending in the outbox (claimStale hands them out again), in order.
            log.warn({ err, parts: lane.parts.length }, "persister: batch not written before stop; left in the outbox");
            lane.parts.length = 0;
            return;
          }
          log.warn({ err, retryInMs: delay }, "persister: batch not written; retrying");
          this.changedNow();
          // A stop cuts the wait short: one more attempt, then the deadline decides.
          await Promise.race([Bun.sleep(delay), this.stopping.promise]);
        }
        this.changedNow();
      }
    } finally {
      lane.running = null;
      this.changedNow();
    }
  }
}
