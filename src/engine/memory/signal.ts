/**
 * Wakes waiters when something arrives (what a blocking Redis command does
 * for the Redis engine). Waiters re-check their condition after waking, so a
 * spurious wake-up is harmless.
 */
export class Signal {
  private readonly waiters = new Set<() => void>();

  /** Resolves on the next notify, or after `ms`, whichever comes first. */
  wait(ms: number): Promise<void> {
    return new Promise((resolve) => {
      const wake = () => {
        clearTimeout(timer);
        this.waiters.delete(wake);
        resolve();
      };
      const timer = setTimeout(wake, ms);
      this.waiters.add(wake);
    });
  }

  notifyAll(): void {
    for (const wake of [...this.waiters]) wake();
  }
}
