/**
 * `bun run build` -> dist/huddle: one self-contained executable. Worker
 * scripts are extra entrypoints so the compiled binary can start them.
 */
import { existsSync, mkdirSync } from "node:fs";

const entrypoints = ["src/main.ts", "actors/sql-runner/pglite.worker.ts", "src/modules/files/process.worker.ts"].filter((f) => existsSync(f));
mkdirSync("dist", { recursive: true });
// No minify flags: minified syntax breaks Elysia's generated handlers (routes with a resolve macro answer 500).
const args = ["build", "--compile", "--sourcemap", ...entrypoints, "--outfile", "dist/huddle"];
const proc = Bun.spawnSync(["bun", ...args], { stdout: "inherit", stderr: "inherit" });
if (proc.exitCode !== 0) {
  console.error(`build failed (bun ${args.join(" ")})`);
  process.exit(proc.exitCode ?? 1);
}
console.log(`built dist/huddle from ${entrypoints.join(", ")}`);
