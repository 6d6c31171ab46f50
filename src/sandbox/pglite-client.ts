/**
 * Request/response over a Bun Worker running pglite.worker.ts. Every pending
 * call is rejected when the Worker dies (crash, terminate, close), so nothing
 * waits forever on a Worker that is gone.
 */
import type { PgliteAssets } from "../db/pglite";
import type { PackLoad, PackLoadResult, RunLimits, RunOutcome } from "./types";

/**
 * The worker script. From source it sits next to this file. In a
 * `bun build --compile` binary it must be an extra entrypoint
 * (`bun build --compile src/main.ts src/sandbox/pglite.worker.ts`, as
 * scripts/build.ts does), and is then found by its path relative to the
 * entrypoints' common root, the project root; `import.meta.url` there is the
 * binary itself, so a URL relative to it would miss (tried with Bun 1.4.5).
 */
export const PGLITE_WORKER_URL: URL | string = import.meta.url.includes("/$bunfs/")
  ? "./src/sandbox/pglite.worker.ts"
  : new URL("./pglite.worker.ts", import.meta.url);

/** Compiled once in the main thread and handed to every Worker, so no Worker compiles the WASM again. */
export type { PgliteAssets };

export type WorkerRequest =
  | { op: "init"; snapshot: Blob | null; assets: PgliteAssets }
  | { op: "run"; schema: string; sql: string; limits: RunLimits }
  | { op: "load"; load: PackLoad }
  | { op: "dump" };

export interface WorkerReplies {
  init: null;
  run: RunOutcome;
  load: PackLoadResult;
  dump: Blob;
}

export interface WireError {
  name: string;
  message: string;
  where?: { check?: string; line?: number };
  sqlstate?: string;
}

export type WorkerResponse = { id: number; ok: true; value: unknown } | { id: number; ok: false; error: WireError };

export class WorkerGoneError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "WorkerGoneError";
  }
}

export class CallTimeoutError extends Error {
  constructor(readonly ms: number) {
    super(`no answer from the sandbox worker within ${ms} ms`);
    this.name = "CallTimeoutError";
  }
}

/**
 * Thrown by the worker when PGlite stopped in the middle of a statement without reporting an
 * error. PGlite swallows exceptions from its WASM other than PostgreSQL's own errors; the one a
 * query is known to cause is the JS engine's call stack overflowing on deep recursion (PostgreSQL's
 * max_stack_depth check never fires inside PGlite), after which the instance is in an unknown
 * state (a later job that should fail at once hung until its time limit): its runner replaces it.
 */
export const ENGINE_ABORTED = "EngineAbortedError";

/** An error thrown inside the worker, with its fields (PackLoadError's `where`, SQLSTATE) preserved. */
export class RemoteError extends Error {
  constructor(readonly wire: WireError) {
    super(wire.message);
    this.name = wire.name;
  }
}

interface Pending {
  resolve: (value: unknown) => void;
  reject: (err: Error) => void;
  timer?: ReturnType<typeof setTimeout>;
}

export class WorkerClient {
  readonly #worker: Worker;
  readonly #pending = new Map<number, Pending>();
  #nextId = 1;
  #dead: Error | null = null;

  constructor(url: URL | string = PGLITE_WORKER_URL) {
    this.#worker = new Worker(url);
    this.#worker.addEventListener("message", (ev: MessageEvent<WorkerResponse>) => this.#onMessage(ev.data));
    this.#worker.addEventListener("error", (ev: ErrorEvent) => {
      // An uncaught error may leave the Worker running in an unknown state: treat it as dead and stop it.
      this.#die(new WorkerGoneError(`sandbox worker crashed: ${ev.message}`));
      this.#worker.terminate();
    });
    this.#worker.addEventListener("close", () => this.#die(new WorkerGoneError("sandbox worker exited")));
  }

  get alive(): boolean {
    return this.#dead === null;
  }

  /** Sends one request; rejects with CallTimeoutError after `timeoutMs` (the Worker is NOT killed here). */
  call<K extends WorkerRequest["op"]>(req: Extract<WorkerRequest, { op: K }>, timeoutMs: number): Promise<WorkerReplies[K]> {
    if (this.#dead) return Promise.reject(this.#dead);
    const id = this.#nextId++;
    return new Promise<WorkerReplies[K]>((resolve, reject) => {
      const pending: Pending = { resolve: resolve as (v: unknown) => void, reject };
      pending.timer = setTimeout(() => {
        this.#pending.delete(id);
        reject(new CallTimeoutError(timeoutMs));
      }, timeoutMs);
      this.#pending.set(id, pending);
      this.#worker.postMessage({ id, ...req });
    });
  }

  terminate(): void {
    this.#die(new WorkerGoneError("sandbox worker terminated"));
    this.#worker.terminate();
  }

  #onMessage(msg: WorkerResponse): void {
    const pending = this.#pending.get(msg.id);
    if (!pending) return; // answered after its timeout: the caller has moved on
    this.#pending.delete(msg.id);
    clearTimeout(pending.timer);
    if (msg.ok) pending.resolve(msg.value);
    else pending.reject(new RemoteError(msg.error));
  }

  #die(err: Error): void {
    if (this.#dead) return;
    this.#dead = err;
    for (const p of this.#pending.values()) {
      clearTimeout(p.timer);
      p.reject(err);
    }
    this.#pending.clear();
  }
}
