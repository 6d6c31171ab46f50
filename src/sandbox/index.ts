/**
 * Sandbox entry point, like src/engine/index.ts: the port (types.ts), its two
 * adapters (PostgreSQL: a dedicated database and LOGIN role; PGlite: child
 * processes loaded from a snapshot) and the runner pool in front of either.
 * The composition root decides which backend from its settings.
 */
import { savedSnapshots, type SavedSnapshots } from "./saved-snapshot";
import { PgliteSandboxBackend } from "./pglite-sandbox";
import { PostgresSandboxBackend } from "./postgres-sandbox";
import { RunnerPool } from "./pool";
import { LazyRunnerPool } from "./lazy";
import { log } from "../lib/log";
import type { SandboxBackend } from "./types";

export * from "./types";
export { RunnerPool, PoolBusyError } from "./pool";
export { LazyRunnerPool } from "./lazy";

export type SandboxSettings =
  /** Runner processes are killed past `memoryLimitMb` (RSS); each PGlite gets `sharedBuffersMb`; `jit` see PgliteSandboxOptions. */
  | { kind: "pglite"; memoryLimitMb?: number; sharedBuffersMb?: number; workDir?: string; jit?: "baseline" | "optimizing" }
  /** `adminUrl` may create the sandbox database and role; `database` is the sandbox's own database. */
  | { kind: "postgres"; adminUrl: string; database: string; role?: string };

/** The sandbox could not be locked down and nothing said to accept that (production). */
export class WeakSandboxError extends Error {
  constructor(readonly weaknesses: readonly string[]) {
    super(`refusing to start in production with a weaker SQL sandbox (set SANDBOX_ALLOW_WEAK=1 to accept it):\n- ${weaknesses.join("\n- ")}`);
    this.name = "WeakSandboxError";
  }
}

/**
 * Opens the backend; with `refuseWeak` (production without SANDBOX_ALLOW_WEAK, src/root.ts) a
 * backend that reports weaknesses is closed and WeakSandboxError thrown, which stops start-up.
 */
export async function openSandboxBackend(settings: SandboxSettings, opts: { refuseWeak?: boolean } = {}): Promise<SandboxBackend> {
  const backend: SandboxBackend = settings.kind === "pglite"
    // builderIdleMs 0: the builder process (~170 MB) goes as soon as the packs are loaded, before judging starts.
    ? await PgliteSandboxBackend.create({ memoryLimitMb: settings.memoryLimitMb, sharedBuffersMb: settings.sharedBuffersMb, workDir: settings.workDir, jit: settings.jit, builderIdleMs: 0 })
    : await PostgresSandboxBackend.open({ adminUrl: settings.adminUrl, database: settings.database, role: settings.role });
  const weaknesses = backend.weaknesses?.() ?? [];
  if (weaknesses.length > 0 && opts.refuseWeak) {
    await backend.close().catch(() => {});
    throw new WeakSandboxError(weaknesses);
  }
  if (weaknesses.length > 0) log.warn({ weaknesses }, "the SQL sandbox is NOT fully locked down: submissions can reach more than their problem's schema");
  return backend;
}

/** Where a PGlite backend keeps its loaded packs between runner pools and restarts (saved-snapshot.ts); none for PostgreSQL. */
export function keptSnapshots(backend: SandboxBackend, settings: SandboxSettings): SavedSnapshots | undefined {
  if (!(backend instanceof PgliteSandboxBackend) || settings.kind !== "pglite" || !settings.workDir) return undefined;
  return savedSnapshots(backend, settings.workDir);
}

/** A pool of `size` runners over the backend; a caller waits at most 30 s for a free runner. */
export function createRunnerPool(backend: SandboxBackend, size: number): RunnerPool {
  return new RunnerPool(backend, { size, queueTimeoutMs: 30_000 });
}

/** `open` on the first job, closed after `idleMs` without one (LazyRunnerPool). */
export function lazyRunnerPool(kind: SandboxBackend["kind"], open: () => Promise<RunnerPool>, idleMs: number): LazyRunnerPool {
  return new LazyRunnerPool(kind, {
    open,
    idleMs,
    onClose: () => {
      log.info({ backend: kind, idleMs }, "sql runners stopped while idle");
      Bun.gc(true); // what judging left on the heap (results, pack datasets) goes back before the server idles
    },
  });
}
