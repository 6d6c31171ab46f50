/**
 * Sandbox entry point, like src/engine/index.ts: the port (types.ts), its two
 * adapters (PostgreSQL: a dedicated database and LOGIN role; PGlite: Bun
 * Workers loaded from a snapshot) and the runner pool in front of either.
 * The composition root decides which backend from its settings.
 */
import { PgliteSandboxBackend } from "./pglite-sandbox";
import { PostgresSandboxBackend } from "./postgres-sandbox";
import { RunnerPool } from "./pool";
import type { SandboxBackend } from "./types";

export * from "./types";
export { RunnerPool, PoolBusyError } from "./pool";

export type SandboxSettings =
  | { kind: "pglite" }
  /** `adminUrl` may create the sandbox database and role; `database` is the sandbox's own database. */
  | { kind: "postgres"; adminUrl: string; database: string };

export function openSandboxBackend(settings: SandboxSettings): Promise<SandboxBackend> {
  if (settings.kind === "pglite") return PgliteSandboxBackend.create();
  return PostgresSandboxBackend.open({ adminUrl: settings.adminUrl, database: settings.database });
}

/** A pool of `size` runners over the backend; a caller waits at most 30 s for a free runner. */
export function createRunnerPool(backend: SandboxBackend, size: number): RunnerPool {
  return new RunnerPool(backend, { size, queueTimeoutMs: 30_000 });
}
