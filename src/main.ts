/**
 * The executable's entry: `huddle ...` runs the command line (cli.ts); the
 * hidden `huddle __sandbox-child` is one PGlite sandbox runner, started by the
 * server itself (src/sandbox/pglite-client.ts) from this same executable so
 * that the compiled binary needs no other file. The child loads none of the
 * server's modules.
 */
import { SANDBOX_CHILD_COMMAND } from "./sandbox/child-command";

if (process.argv[2] === SANDBOX_CHILD_COMMAND) await import("./sandbox/pglite-child");
else await import("./cli");
