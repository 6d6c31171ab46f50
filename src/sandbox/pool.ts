/**
 * M runners, one job each at a time. A job waits for a free runner for at most
 * `queueTimeoutMs` (then PoolBusyError, so the caller can put the job back
 * rather than fail it). A plain class on purpose: the lead wraps it in the
 * supervision tree; runners heal themselves (replace their connection or
 * Worker) and report it in their restart counts.
 */
import { isSafeIdent } from "./session";
import type { PackLoad, PackLoadResult, RunInJob, RunLimits, RunOutcome, Runner, Sandbox, SandboxBackend } from "./types";

/** A runner's query with the pool's promises: a bad schema name and a runner that throws are internal_error outcomes. */
function guarded(runner: Runner, run: RunInJob): RunInJob {
  return async (schema, sql, limits) => {
    // Checked here so a bad name is a clear internal_error, not a failure deep inside a runner.
    if (!isSafeIdent(schema)) return { ok: false, verdict: "internal_error", error: `invalid pack schema name "${schema}"`, duration_ms: 0 };
    return run(schema, sql, limits).catch((err): RunOutcome => ({
      ok: false, verdict: "internal_error", error: `runner ${runner.id} failed: ${(err as Error).message}`, duration_ms: 0,
    }));
  };
}

export interface RunnerPoolOptions {
  size: number;
  /** How long a job may wait for a free runner. */
  queueTimeoutMs: number;
  /** Jobs allowed to wait at once; more is PoolBusyError at once. Default 1000. */
  maxQueue?: number;
  /** close() waits this long for running jobs before closing runners. Default 5000. */
  closeTimeoutMs?: number;
}

export class PoolBusyError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "PoolBusyError";
  }
}

interface Waiter {
  resolve: (runner: Runner) => void;
  reject: (err: Error) => void;
  timer: ReturnType<typeof setTimeout>;
}

export interface PoolStats {
  size: number;
  busy: number;
  queued: number;
  /** Restarts per runner, by runner id. */
  restarts: number[];
}

export class RunnerPool implements Sandbox {
  readonly #runners: Runner[];
  readonly #idle: Runner[];
  readonly #waiters: Waiter[] = [];
  readonly #running = new Set<Promise<unknown>>();
  #closed = false;

  constructor(private readonly backend: SandboxBackend, private readonly opts: RunnerPoolOptions) {
    if (!Number.isInteger(opts.size) || opts.size < 1) throw new Error(`runner pool size must be a positive integer, got ${opts.size}`);
    this.#runners = Array.from({ length: opts.size }, (_, i) => backend.createRunner(i));
    this.#idle = [...this.#runners];
  }

  get kind(): SandboxBackend["kind"] {
    return this.backend.kind;
  }

  /** `queue.timeoutMs` shortens the wait for a runner (interactive runs answer fast or not at all). */
  run(schema: string, sql: string, limits: RunLimits, queue: { timeoutMs?: number } = {}): Promise<RunOutcome> {
    return this.job((run) => run(schema, sql, limits), queue);
  }

  /** A job of several queries on one runner (RunJob): the runner is taken once and kept until `work` ends. */
  async job<T>(work: (run: RunInJob) => Promise<T>, queue: { timeoutMs?: number } = {}): Promise<T> {
    const runner = await this.#acquire(queue.timeoutMs ?? this.opts.queueTimeoutMs);
    const task = (runner.job ? runner.job((run) => work(guarded(runner, run))) : work(guarded(runner, (...a) => runner.run(...a))));
    this.#running.add(task);
    try {
      return await task;
    } finally {
      this.#running.delete(task);
      this.#release(runner);
    }
  }

  /** Loads go to the backend; runners pick up the new data by themselves (PGlite: new snapshot generation). */
  loadPack(load: PackLoad): Promise<PackLoadResult> {
    if (this.#closed) return Promise.reject(new Error("the runner pool is closed"));
    return this.backend.loadPack(load);
  }

  stats(): PoolStats {
    return {
      size: this.#runners.length,
      busy: this.#runners.length - this.#idle.length,
      queued: this.#waiters.length,
      restarts: this.#runners.map((r) => r.restarts),
    };
  }

  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    for (const w of this.#waiters.splice(0)) {
      clearTimeout(w.timer);
      w.reject(new PoolBusyError("the runner pool is closing"));
    }
    const drained = Promise.allSettled([...this.#running]);
    await Promise.race([drained, Bun.sleep(this.opts.closeTimeoutMs ?? 5000)]);
    await Promise.allSettled(this.#runners.map((r) => r.close()));
    await this.backend.close();
  }

  #acquire(timeoutMs: number): Promise<Runner> {
    if (this.#closed) return Promise.reject(new PoolBusyError("the runner pool is closed"));
    const free = this.#idle.pop();
    if (free) return Promise.resolve(free);
    if (this.#waiters.length >= (this.opts.maxQueue ?? 1000)) {
      return Promise.reject(new PoolBusyError(`${this.#waiters.length} jobs are already waiting for a SQL runner`));
    }
    return new Promise<Runner>((resolve, reject) => {
      const waiter: Waiter = {
        resolve,
        reject,
        timer: setTimeout(() => {
          this.#waiters.splice(this.#waiters.indexOf(waiter), 1);
          reject(new PoolBusyError(`no SQL runner became free within ${timeoutMs} ms`));
        }, timeoutMs),
      };
      this.#waiters.push(waiter);
    });
  }

  #release(runner: Runner): void {
    const next = this.#waiters.shift();
    if (next && !this.#closed) {
      clearTimeout(next.timer);
      next.resolve(runner);
    } else {
      this.#idle.push(runner);
    }
  }
}
