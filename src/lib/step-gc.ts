/**
 * On a small machine, RSS is the budget. JSC collects when allocation asks
 * for it, so a burst of work (a class submitting at once: requests, results,
 * frames) can push the process up by ~100 MB of garbage within a second
 * before a collection runs (bench/RESULTS.md: 205 -> 308 MB while the embedded
 * default judged 60 jobs). This collector watches RSS and runs one full
 * collection whenever it has grown by `stepMb` since the last one; what is
 * left afterwards is the new base, so memory that is really in use costs one
 * collection per step, not one per check.
 */
export class StepCollector {
  private base: number;
  private readonly timer: ReturnType<typeof setInterval>;
  /** Full collections run so far (for tests and logs). */
  collections = 0;

  constructor(
    private readonly stepMb: number,
    everyMs = 200,
    private readonly rss: () => number = () => process.memoryUsage.rss(),
    private readonly collect: () => void = () => Bun.gc(true),
  ) {
    this.base = this.rss();
    this.timer = setInterval(() => this.check(), everyMs);
    this.timer.unref?.();
  }

  /** One check: collects if RSS passed the base by a step. Exposed for tests. */
  check(): void {
    if (this.rss() - this.base < this.stepMb * 1024 * 1024) return;
    this.collect();
    this.collections++;
    this.base = this.rss();
  }

  stop(): void {
    clearInterval(this.timer);
  }
}
