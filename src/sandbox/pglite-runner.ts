/**
 * One PGlite runner: a child process started from the backend's latest
 * snapshot, one job at a time. A child that overruns the wall-clock limit or
 * its memory limit, dies, or whose engine aborted mid-query (ENGINE_ABORTED)
 * is killed (its pending call rejected) and a fresh one is started from the
 * snapshot right away; a child from an older snapshot (a pack was loaded
 * since) is replaced before the next job.
 */
import { CallTimeoutError, ENGINE_ABORTED, MemoryLimitError, RemoteError, type ChildClient } from "./pglite-client";
import { elapsedSince, failure } from "./session";
import type { RunLimits, RunOutcome, Runner } from "./types";

/** What a runner needs from its backend (PgliteSandboxBackend). */
export interface PgliteRunnerHost {
  /** Bumped by every successful pack load. */
  readonly generation: number;
  currentSnapshot(): Promise<{ snapshot: string; generation: number }>;
  startWorker(snapshot: string | null): Promise<ChildClient>;
}

const CLOSED = new Error("the runner is closed");

export class PgliteRunner implements Runner {
  #starting: Promise<{ client: ChildClient; generation: number }> | null = null;
  #restarts = 0;
  #closed = false;

  constructor(readonly id: number, private readonly backend: PgliteRunnerHost) {}

  get restarts(): number {
    return this.#restarts;
  }

  async run(schema: string, sql: string, limits: RunLimits): Promise<RunOutcome> {
    const setupStart = performance.now();
    let client: ChildClient;
    try {
      client = await this.#ready();
    } catch (err) {
      return failure("internal_error", `could not start the sandbox child: ${(err as Error).message}`, setupStart);
    }
    const start = performance.now();
    try {
      return await client.call({ op: "run", schema, sql, limits }, limits.timeoutMs);
    } catch (err) {
      this.#replace(client);
      if (err instanceof CallTimeoutError) {
        return { ok: false, verdict: "time_limit_exceeded", error: `the query ran longer than ${limits.timeoutMs} ms`, duration_ms: elapsedSince(start) };
      }
      if (err instanceof RemoteError && err.name === ENGINE_ABORTED) return failure("resource_limit_exceeded", err.message, start);
      if (err instanceof MemoryLimitError) return failure("resource_limit_exceeded", err.message, start);
      return failure("internal_error", `the sandbox child failed: ${(err as Error).message}`, start);
    }
  }

  async close(): Promise<void> {
    this.#closed = true;
    const starting = this.#starting;
    this.#starting = null;
    (await starting?.catch(() => null))?.client.terminate();
  }

  /** A live Worker on the latest snapshot, starting or replacing one as needed. */
  async #ready(): Promise<ChildClient> {
    for (;;) {
      if (this.#closed) throw CLOSED;
      const starting = (this.#starting ??= this.#start());
      let current;
      try {
        current = await starting;
      } catch (err) {
        if (this.#starting === starting) this.#starting = null;
        throw err;
      }
      if (current.client.alive && current.generation === this.backend.generation) return current.client;
      current.client.terminate(); // a pack was loaded since it started, or it died between jobs
      if (this.#starting === starting) this.#starting = null;
    }
  }

  async #start(): Promise<{ client: ChildClient; generation: number }> {
    const { snapshot, generation } = await this.backend.currentSnapshot();
    return { client: await this.backend.startWorker(snapshot), generation };
  }

  /** Kills the Worker and starts its replacement right away, so the next job does not wait for it. */
  #replace(client: ChildClient): void {
    client.terminate();
    this.#restarts++;
    this.#starting = null;
    if (this.#closed) return;
    const next = this.#start();
    next.catch(() => {}); // reported to the next job by #ready
    this.#starting = next;
  }
}
