/**
 * Request/response over IPC with a sandbox child process (pglite-child.ts,
 * started as `huddle __sandbox-child`). Every pending call is rejected when
 * the child dies (crash, kill, exit), so nothing waits forever on a child
 * that is gone. The child's memory is watched: past its limit it is killed
 * and its pending call fails with MemoryLimitError.
 */
import { readFileSync } from "node:fs";
import type { Subprocess } from "bun";
import { SANDBOX_CHILD_COMMAND, selfCommand } from "../lib/self-command";
import type { PackLoad, PackLoadResult, RunLimits, RunOutcome } from "./types";

export type WorkerRequest =
  /** `dataDir`: an empty directory for the cluster's files, removed by the server after the child exits. */
  | { op: "init"; snapshotPath: string | null; sharedBuffersMb: number; dataDir: string }
  | { op: "run"; schema: string; sql: string; limits: RunLimits }
  | { op: "load"; load: PackLoad }
  /** Writes the data directory (a tar) to `path`. */
  | { op: "dump"; path: string };

export interface WorkerReplies {
  init: null;
  run: RunOutcome;
  load: PackLoadResult;
  dump: null;
}

export interface WireError {
  name: string;
  message: string;
  where?: { check?: string; line?: number };
  sqlstate?: string;
}

export type WorkerResponse = { id: number; ok: true; value: unknown } | { id: number; ok: false; error: WireError };

export class ChildGoneError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "ChildGoneError";
  }
}

/** The child grew past its memory limit (SANDBOX_MEMORY_MB) and was killed. */
export class MemoryLimitError extends ChildGoneError {
  constructor(readonly limitMb: number) {
    super(`the query used more than ${limitMb} MB of sandbox memory`);
    this.name = "MemoryLimitError";
  }
}

export class CallTimeoutError extends Error {
  constructor(readonly ms: number) {
    super(`no answer from the sandbox child within ${ms} ms`);
    this.name = "CallTimeoutError";
  }
}

/**
 * Thrown by the child when PGlite stopped in the middle of a statement without reporting an
 * error. PGlite swallows exceptions from its WASM other than PostgreSQL's own errors; the one a
 * query is known to cause is the JS engine's call stack overflowing on deep recursion (PostgreSQL's
 * max_stack_depth check never fires inside PGlite), after which the instance is in an unknown
 * state (a later job that should fail at once hung until its time limit): its runner replaces it.
 */
export const ENGINE_ABORTED = "EngineAbortedError";

/** An error thrown inside the child, with its fields (PackLoadError's `where`, SQLSTATE) preserved. */
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

export interface ChildOptions {
  /** Default: this executable's hidden `__sandbox-child` (src/lib/self-command.ts); tests start other scripts. */
  cmd?: string[];
  /** Killed (MemoryLimitError) when its RSS passes this while a job runs; 0 = unwatched. */
  memoryLimitMb?: number;
  /** Added to this process's environment for the child. */
  env?: Record<string, string>;
}

/** How often a child's RSS is read while a call is pending: a query can allocate fast. */
const MEMORY_POLL_MS = 50;

/** Resident memory of a process in KB from /proc (Linux); 0 where that is not available. */
export function processRssKb(pid: number): number {
  try {
    return Number(/VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, "utf8"))?.[1] ?? 0);
  } catch {
    return 0;
  }
}

export class ChildClient {
  readonly #child: Subprocess;
  readonly #pending = new Map<number, Pending>();
  readonly #memoryLimitMb: number;
  #watch: ReturnType<typeof setInterval> | undefined;
  #nextId = 1;
  #dead: Error | null = null;

  constructor(opts: ChildOptions = {}) {
    this.#memoryLimitMb = opts.memoryLimitMb ?? 0;
    this.#child = Bun.spawn(opts.cmd ?? selfCommand(SANDBOX_CHILD_COMMAND), {
      ...(opts.env ? { env: { ...process.env, ...opts.env } } : {}),
      stdin: "ignore",
      stdout: "ignore",
      stderr: "inherit",
      serialization: "json",
      ipc: (msg: WorkerResponse) => this.#onMessage(msg),
      onExit: (_proc, code, signal) => this.#die(new ChildGoneError(`sandbox child exited (${signal ?? `code ${code}`})`)),
    });
  }

  get alive(): boolean {
    return this.#dead === null;
  }

  get pid(): number {
    return this.#child.pid;
  }

  /** Resolves once the process has exited (at once if it already has). */
  get exited(): Promise<number> {
    return this.#child.exited;
  }

  /** Sends one request; rejects with CallTimeoutError after `timeoutMs` (the child is NOT killed here). */
  call<K extends WorkerRequest["op"]>(req: Extract<WorkerRequest, { op: K }>, timeoutMs: number): Promise<WorkerReplies[K]> {
    if (this.#dead) return Promise.reject(this.#dead);
    const id = this.#nextId++;
    return new Promise<WorkerReplies[K]>((resolve, reject) => {
      const pending: Pending = { resolve: resolve as (v: unknown) => void, reject };
      pending.timer = setTimeout(() => {
        this.#settled(id);
        reject(new CallTimeoutError(timeoutMs));
      }, timeoutMs);
      this.#pending.set(id, pending);
      // Only jobs are limited: unpacking a snapshot (init) briefly needs more than a runner holds after it.
      if (req.op === "run") this.#watchMemory();
      this.#child.send({ id, ...req });
    });
  }

  /** SIGKILL: a child busy in WASM answers nothing else, and its memory goes back to the system at once. */
  terminate(): void {
    this.#die(new ChildGoneError("sandbox child terminated"));
    this.#child.kill("SIGKILL");
  }

  #watchMemory(): void {
    if (!this.#memoryLimitMb || this.#watch) return;
    this.#watch = setInterval(() => {
      if (processRssKb(this.#child.pid) <= this.#memoryLimitMb * 1024) return;
      this.#die(new MemoryLimitError(this.#memoryLimitMb));
      this.#child.kill("SIGKILL");
    }, MEMORY_POLL_MS);
  }

  #settled(id: number): void {
    this.#pending.delete(id);
    if (this.#pending.size === 0) this.#watch = void clearInterval(this.#watch);
  }

  #onMessage(msg: WorkerResponse): void {
    const pending = this.#pending.get(msg.id);
    if (!pending) return; // answered after its timeout: the caller has moved on
    this.#settled(msg.id);
    clearTimeout(pending.timer);
    if (msg.ok) pending.resolve(msg.value);
    else pending.reject(new RemoteError(msg.error));
  }

  #die(err: Error): void {
    if (this.#dead) return;
    this.#dead = err;
    clearInterval(this.#watch);
    for (const p of this.#pending.values()) {
      clearTimeout(p.timer);
      p.reject(err);
    }
    this.#pending.clear();
  }
}
