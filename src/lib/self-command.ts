/**
 * The command line that starts this same executable with a hidden
 * subcommand (src/main.ts dispatches on it), for work that must run in a
 * process of its own (a SQL sandbox runner, an image being decoded): only a
 * process can be stopped for sure, with all its memory, while busy in WASM.
 * From source that is `bun --smol src/main.ts <sub>`; in a `bun build --compile`
 * binary the binary itself (`import.meta.url` is then inside `/$bunfs/`).
 */
import { fileURLToPath } from "node:url";

export function selfCommand(subcommand: string): string[] {
  if (import.meta.url.includes("/$bunfs/")) return [process.execPath, subcommand]; // built with --smol (scripts/build.ts)
  // --smol: a heap that is collected more often; about 10 MB less per process, which children are many of.
  return [process.execPath, "--smol", fileURLToPath(new URL("../main.ts", import.meta.url)), subcommand];
}

/** Hidden subcommands: one PGlite sandbox runner (src/sandbox/pglite-child.ts) ... */
export const SANDBOX_CHILD_COMMAND = "__sandbox-child";
/** ... and one upload's processing (src/modules/files/process-child.ts). */
export const FILE_CHILD_COMMAND = "__file-child";
