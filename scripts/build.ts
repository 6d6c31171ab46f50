/**
 * `bun run build` -> dist/huddle: one self-contained executable. The SQL
 * sandbox runners and upload processing are child processes of the same
 * binary (hidden subcommands, src/main.ts), so it has one entrypoint.
 */
import { mkdirSync } from "node:fs";

const entrypoints = ["src/main.ts"];
mkdirSync("dist", { recursive: true });
// No minify flags: minified syntax breaks Elysia's generated handlers (routes with a resolve macro answer 500).
// --smol (as `bun run start`): the runtime collects garbage more often; ~20 MB less RSS for the server, ~10 MB per child.
// --bytecode (ESM, for src/main.ts's top-level await): the modules ship precompiled, so the start
// does not parse ~1,100 modules first; exec -> /ready with PostgreSQL + Redis about halves
// (bench/RESULTS.md, "Start-up with bytecode"), for ~12 MB more binary and ~2 MB more RSS.
const args = ["build", "--compile", "--bytecode", "--format=esm", "--compile-exec-argv=--smol", "--sourcemap", "--root", ".", ...entrypoints, "--outfile", "dist/huddle"];
const proc = Bun.spawnSync(["bun", ...args], { stdout: "inherit", stderr: "inherit" });
if (proc.exitCode !== 0) {
  console.error(`build failed (bun ${args.join(" ")})`);
  process.exit(proc.exitCode ?? 1);
}
console.log(`built dist/huddle from ${entrypoints.join(", ")}`);
