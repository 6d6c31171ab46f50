/**
 * Files from the project's shared directory, `<repo>/../shared` (never copied
 * into the repository, see ../shared/datasets/README.md).
 *
 * A fresh clone has no `shared` beside it, so a test that needs one of these
 * files calls `sharedDataset(name)` at module load and skips with
 * `describe.skipIf(!path)` / `test.skipIf(!path)`. Like the service probes in
 * services.ts, a missing file is announced on stderr with a `SKIP:` line, and
 * with REQUIRE_SERVICES=1 (CI, where the file is present) it throws instead, so
 * a lost dataset fails the run rather than silently hiding tests.
 */
import { existsSync } from "node:fs";
import { fileURLToPath } from "node:url";

/** `<repo>/../shared`, wherever the checkout lives (a worktree, a temp clone). */
export const SHARED_DIR = fileURLToPath(new URL("../../../shared/", import.meta.url));

/** The absolute path of `<repo>/../shared/datasets/<name>`, or null when it is absent. */
export function sharedDataset(name: string): string | null {
  const path = `${SHARED_DIR}datasets/${name}`;
  if (existsSync(path)) return path;
  const msg = `shared dataset ${name} not found at ${path}`;
  if (process.env.REQUIRE_SERVICES === "1") throw new Error(`REQUIRE_SERVICES=1 but ${msg}`);
  console.error(`SKIP: ${msg} (tests that need it are skipped)`);
  return null;
}
