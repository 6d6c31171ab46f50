/**
 * Group commit: callers ask for one item each; items that arrive while a
 * write is in flight are written together by the next one. Nothing waits for
 * a timer, so a lone caller pays one round trip as before, and under load
 * the round trips per item fall with the number of callers in flight.
 *
 * `write` gets the batch in arrival order and answers one result per item,
 * in the same order. If it throws, every caller of that batch gets the error
 * (each decides to retry, as it would after its own failed statement).
 */
type Waiting<I, O> = { item: I; resolve: (out: O) => void; reject: (err: unknown) => void };

export class GroupCommit<I, O> {
  private queue: Waiting<I, O>[] = [];
  private writing = false;

  constructor(private readonly write: (items: I[]) => Promise<O[]>, private readonly maxBatch = 256) {}

  submit(item: I): Promise<O> {
    return new Promise<O>((resolve, reject) => {
      this.queue.push({ item, resolve, reject });
      if (!this.writing) void this.drain();
    });
  }

  private async drain(): Promise<void> {
    this.writing = true;
    try {
      while (this.queue.length > 0) {
        const batch = this.queue.splice(0, this.maxBatch);
        try {
          const out = await this.write(batch.map((w) => w.item));
          if (out.length !== batch.length) throw new Error(`group commit: ${out.length} results for ${batch.length} items`);
          batch.forEach((w, i) => w.resolve(out[i]!));
        } catch (err) {
          for (const w of batch) w.reject(err);
        }
      }
    } finally {
      this.writing = false;
    }
  }
}
