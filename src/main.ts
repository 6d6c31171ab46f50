/**
 * The executable's entry: `huddle ...` runs the command line (cli.ts). Two
 * hidden subcommands are processes the server starts from this same
 * executable, so the compiled binary needs no other file
 * (src/lib/self-command.ts): one PGlite sandbox runner, and one upload's
 * image processing. They load none of the server's modules.
 */
import { FILE_CHILD_COMMAND, SANDBOX_CHILD_COMMAND } from "./lib/self-command";

const sub = process.argv[2];
// The embedded database's WASM compiles on the engine's background threads: started before the
// server's modules load, it is ready by the time the database opens instead of after.
if (!process.env.DATABASE_URL && (sub === undefined || sub === "serve" || sub?.startsWith("--"))) {
  void import("./db/pglite").then((m) => m.pgliteAssets()).catch(() => {});
}
if (sub === SANDBOX_CHILD_COMMAND) await import("./sandbox/pglite-child");
else if (sub === FILE_CHILD_COMMAND) await import("./modules/files/process-child");
else await import("./cli");
