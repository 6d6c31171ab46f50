/**
 * `bun run build` -> dist/huddle: one self-contained executable. Worker
 * scripts are extra entrypoints so the compiled binary can start them.
 */
import { existsSync, mkdirSync } from "node:fs";

const entrypoints = ["src/main.ts", "src/modules/files/process.worker.ts"].filter((f) => existsSync(f));
mkdirSync("dist", { recursive: true });
// No minify flags: minified syntax breaks Elysia's generated handlers (routes with a resolve macro answer 500).
// --root keeps the Workers' paths inside the binary relative to the project root (src/sandbox/pglite-client.ts).
const args = ["build", "--compile", "--sourcemap", "--root", ".", ...entrypoints, "--outfile", "dist/huddle"];
const proc = Bun.spawnSync(["bun", ...args], { stdout: "inherit", stderr: "inherit" });
if (proc.exitCode !== 0) {
  console.error(`build failed (bun ${args.join(" ")})`);
  process.exit(proc.exitCode ?? 1);
}
console.log(`built dist/huddle from ${entrypoints.join(", ")}`);
