/**
 * A runner pool that exists only while it is used: opened on the first job
 * (or pack load) and closed after `idleMs` without one, so an idle embedded
 * server holds no PGlite runner processes. Closing waits for nothing: the
 * idle timer only fires when no job is running; the next job opens a fresh
 * pool (its packs loaded again by `open`).
 */
import type { RunnerPool } from "./pool";
import type { PackLoad, PackLoadResult, RunInJob, RunLimits, RunOutcome, Sandbox } from "./types";

export interface LazyPoolOptions {
  /** Makes a ready pool (backend, runners, packs loaded). */
  open: () => Promise<RunnerPool>;
  /** Close after this long without a job; 0 = never. */
  idleMs: number;
  onOpen?: (pool: RunnerPool) => void;
  onClose?: () => void;
}

export class LazyRunnerPool implements Sandbox {
  #pool: Promise<RunnerPool> | null = null;
  #active = 0;
  #idleTimer: ReturnType<typeof setTimeout> | undefined;
  #current: RunnerPool | null = null;
  /** Restarts of the pools already closed, per runner id. */
  #closedRestarts: number[] = [];
  #closed = false;

  constructor(readonly kind: string, private readonly opts: LazyPoolOptions) {}

  /** Whether runners are up (or starting) right now. */
  get open(): boolean {
    return this.#pool !== null;
  }

  run(schema: string, sql: string, limits: RunLimits): Promise<RunOutcome> {
    return this.#use((pool) => pool.run(schema, sql, limits));
  }

  job<T>(work: (run: RunInJob) => Promise<T>): Promise<T> {
    return this.#use((pool) => pool.job(work));
  }

  /** Opens the pool now (it then stops when idle like after any job): e.g. to fill an empty catalog. */
  warm(): Promise<void> {
    return this.#use(async () => {});
  }

  loadPack(load: PackLoad): Promise<PackLoadResult> {
    return this.#use((pool) => pool.loadPack(load));
  }

  /** Restarts per runner, summed over every pool this one has opened (the metric only grows). */
  stats(): { restarts: number[] } {
    const now = this.#current?.stats().restarts ?? [];
    const n = Math.max(now.length, this.#closedRestarts.length);
    return { restarts: Array.from({ length: n }, (_, i) => (now[i] ?? 0) + (this.#closedRestarts[i] ?? 0)) };
  }

  async close(): Promise<void> {
    this.#closed = true;
    clearTimeout(this.#idleTimer);
    await this.#shut();
  }

  async #use<T>(fn: (pool: RunnerPool) => Promise<T>): Promise<T> {
    if (this.#closed) throw new Error("the runner pool is closed");
    clearTimeout(this.#idleTimer);
    this.#active++;
    try {
      const opening = (this.#pool ??= this.opts.open().then((pool) => {
        this.#current = pool;
        this.opts.onOpen?.(pool);
        return pool;
      }));
      let pool: RunnerPool;
      try {
        pool = await opening;
      } catch (err) {
        if (this.#pool === opening) this.#pool = null; // the next job tries again
        throw err;
      }
      return await fn(pool);
    } finally {
      if (--this.#active === 0 && this.opts.idleMs > 0 && !this.#closed) {
        this.#idleTimer = setTimeout(() => void this.#shut(), this.opts.idleMs);
        this.#idleTimer.unref();
      }
    }
  }

  async #shut(): Promise<void> {
    const opening = this.#pool;
    if (!opening || this.#active > 0) return;
    this.#pool = null;
    const pool = await opening.catch(() => null);
    if (!pool) return;
    this.#closedRestarts = this.stats().restarts;
    if (this.#current === pool) this.#current = null;
    await pool.close();
    this.opts.onClose?.();
  }
}
