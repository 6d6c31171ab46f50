/**
 * The PGlite sandbox's loaded packs, kept as one snapshot file in its work
 * directory (DATA_DIR/sandbox) across runner pools and restarts. Without it,
 * every time the runners start (the first submission after SANDBOX_IDLE_MS,
 * every server start) a builder process (some 300 MB) loads every pack again
 * and the submission waits seconds for it.
 *
 * The file is named by a key: the catalog's state (which packs, which
 * datasets, when imported: the caller's part) and what the snapshot was built
 * with (the PGlite template, the runner role and its revokes: this module's
 * part), so a snapshot is only ever reused for exactly what it holds.
 */
import { existsSync, readdirSync, rmSync } from "node:fs";
import { join } from "node:path";
import { pgliteTemplate } from "../db/pglite-template-file";
import type { PgliteSandboxBackend } from "./pglite-sandbox";
import { PGLITE_RUNNER_ROLE, pgliteRunnerSetupSql } from "./session";

/** Bump when what a snapshot holds changes in a way the key below does not see (e.g. how variants load). */
const SNAPSHOT_FORMAT = 1;
const PREFIX = "catalog-";

export interface SavedSnapshots {
  /** Starts the runners from the file saved for `catalogKey`, if there is one; whether it did. */
  resume(catalogKey: string): Promise<boolean>;
  /** Keeps the backend's current snapshot for `catalogKey`, replacing older ones. */
  save(catalogKey: string): Promise<void>;
}

/** What a snapshot is built from (the same for the whole process): the template is read and hashed once. */
let builtFrom: Promise<string> | null = null;
const buildHash = () =>
  (builtFrom ??= pgliteTemplate().arrayBuffer().then((template) =>
    Bun.hash(`${SNAPSHOT_FORMAT}|${pgliteRunnerSetupSql(PGLITE_RUNNER_ROLE)}|${Bun.hash(template).toString(36)}`).toString(36)));

export function savedSnapshots(backend: Pick<PgliteSandboxBackend, "adoptSnapshot" | "exportSnapshot">, dir: string): SavedSnapshots {
  const fileFor = async (catalogKey: string) => join(dir, `${PREFIX}${Bun.hash(`${await buildHash()}|${catalogKey}`).toString(36)}.tar`);
  return {
    async resume(catalogKey) {
      const file = await fileFor(catalogKey);
      if (!existsSync(file)) return false;
      try {
        await backend.adoptSnapshot(file);
        return true;
      } catch {
        return false; // removed meanwhile: load the packs as without it
      }
    },
    async save(catalogKey) {
      const file = await fileFor(catalogKey);
      await backend.exportSnapshot(file);
      for (const name of readdirSync(dir)) {
        if (name.startsWith(PREFIX) && join(dir, name) !== file) rmSync(join(dir, name), { force: true });
      }
    },
  };
}
