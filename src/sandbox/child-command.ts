/**
 * How the server starts a PGlite sandbox child: the same executable with a
 * hidden subcommand (src/main.ts dispatches on it). From source that is
 * `bun src/main.ts __sandbox-child`; in a `bun build --compile` binary the
 * binary itself (`import.meta.url` is then inside `/$bunfs/`).
 */
import { fileURLToPath } from "node:url";

export const SANDBOX_CHILD_COMMAND = "__sandbox-child";

export function sandboxChildCommand(): string[] {
  if (import.meta.url.includes("/$bunfs/")) return [process.execPath, SANDBOX_CHILD_COMMAND];
  return [process.execPath, fileURLToPath(new URL("../main.ts", import.meta.url)), SANDBOX_CHILD_COMMAND];
}
