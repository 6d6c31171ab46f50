/**
 * Bun macro: bundles the browser client (src/web) when this module is
 * transpiled, so `bun run`, `bun test` and `bun build --compile` all carry the
 * same assets as plain strings and the binary needs no files on disk.
 *
 * Bun.build cannot run inside a macro (the bundler would wait on itself), so
 * the macro runs the bundler CLI of the current bun in a child process.
 */
import { readFileSync } from "node:fs";
import { join } from "node:path";

export type WebBundle = { html: string; js: string; css: string; icon: string; version: string };

const WEB = join(import.meta.dir, "../../web");

function bunBuild(entry: string, extra: string[]): string {
  const proc = Bun.spawnSync([process.execPath, "build", join(WEB, entry), "--minify", ...extra], { stdout: "pipe", stderr: "pipe" });
  if (proc.exitCode !== 0) throw new Error(`bundling src/web/${entry} failed:\n${proc.stderr.toString()}${proc.stdout.toString()}`);
  return proc.stdout.toString();
}

export function webBundle(): WebBundle {
  const js = bunBuild("app.ts", ["--target=browser", "--format=esm"]);
  const css = bunBuild("styles.css", []);
  const icon = readFileSync(join(WEB, "icon.svg"), "utf8");
  // One version for the whole set: the page names its assets with it, so they can be cached forever.
  const version = Bun.hash(js + css + icon).toString(36);
  const html = readFileSync(join(WEB, "index.html"), "utf8").replaceAll("__VERSION__", version);
  return { html, js, css, icon, version };
}
