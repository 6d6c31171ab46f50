/**
 * Setting up a socket (upgrade request, token check, rate limit, PostgreSQL
 * and Redis reads) leaves ~25 KB of garbage per socket behind, while what the
 * socket keeps is ~1.3 KB. JSC collects when allocation asks for it, so after
 * a burst of connections (a deploy, a reconnect storm) an idle server would
 * hold that garbage indefinitely. Once a burst of at least `minBurst` set-ups
 * is followed by `quietMs` without one, one full collection returns it (a
 * 30-45 ms pause with 2,000 new sockets here; an asynchronous collection
 * returned next to nothing).
 */
export class BurstCollector {
  private count = 0;
  private timer: ReturnType<typeof setTimeout> | null = null;

  constructor(
    private readonly minBurst: number,
    private readonly quietMs: number,
    private readonly collect: () => void = () => Bun.gc(true),
  ) {}

  /** One socket was set up. */
  note() {
    this.count++;
    if (this.timer) this.timer.refresh();
    else {
      this.timer = setTimeout(() => this.fire(), this.quietMs);
      this.timer.unref?.();
    }
  }

  stop() {
    if (this.timer) clearTimeout(this.timer);
    this.timer = null;
  }

  private fire() {
    this.timer = null;
    const burst = this.count;
    this.count = 0;
    if (burst >= this.minBurst) this.collect();
  }
}
