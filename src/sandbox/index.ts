/**
 * Sandbox entry point, like src/engine/index.ts: the port (types.ts), its two
 * adapters (PostgreSQL: a dedicated database and LOGIN role; PGlite: Bun
 * Workers loaded from a snapshot) and the runner pool in front of either.
 * The composition root decides which backend from its settings.
 */
import { PgliteSandboxBackend } from "./pglite-sandbox";
import { PostgresSandboxBackend } from "./postgres-sandbox";
import { RunnerPool } from "./pool";
import { log } from "../lib/log";
import type { SandboxBackend } from "./types";

export * from "./types";
export { RunnerPool, PoolBusyError } from "./pool";

export type SandboxSettings =
  | { kind: "pglite" }
  /** `adminUrl` may create the sandbox database and role; `database` is the sandbox's own database. */
  | { kind: "postgres"; adminUrl: string; database: string };

export async function openSandboxBackend(settings: SandboxSettings): Promise<SandboxBackend> {
  const backend: SandboxBackend = settings.kind === "pglite"
    ? await PgliteSandboxBackend.create()
    : await PostgresSandboxBackend.open({ adminUrl: settings.adminUrl, database: settings.database });
  const weaknesses = backend.weaknesses?.() ?? [];
  if (weaknesses.length > 0) log.warn({ weaknesses }, "the SQL sandbox is NOT fully locked down: submissions can reach more than their problem's schema");
  return backend;
}

/** A pool of `size` runners over the backend; a caller waits at most 30 s for a free runner. */
export function createRunnerPool(backend: SandboxBackend, size: number): RunnerPool {
  return new RunnerPool(backend, { size, queueTimeoutMs: 30_000 });
}
