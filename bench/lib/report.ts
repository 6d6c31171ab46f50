/**
 * What a scenario hands back, and how a run is written out: one markdown
 * table on stdout (and bench/out/results.md), the raw numbers as JSON in
 * bench/out/, plus the machine and versions they were measured on.
 */
import { mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { cpus, totalmem } from "node:os";
import type { BenchDb, RedisServer } from "./procs";
import { ROOT } from "./procs";

export type Status = "met" | "missed" | "";
export type Row = { scenario: string; metric: string; huddle: string; other: string; ratio: string; target: string; status: Status };
/** `details`: extra markdown (e.g. a per-rate table) printed after the summary table. */
export type ScenarioResult = { name: string; rows: Row[]; raw: unknown; notes: string[]; details?: string };
export type Ctx = {
  full: boolean;
  redis: RedisServer;
  db: BenchDb;
  peerRuntime: "bun" | "node";
  /** Filled by the limits scenario (it runs first): the machine's ceilings, to show Huddle's figures as fractions. */
  limits: Record<string, number>;
  log(msg: string): void;
};

export const OUT_DIR = `${ROOT}bench/out`;

export const row = (scenario: string, metric: string, huddle: string, other = "", ratio = "", target = "", status: Status = ""): Row =>
  ({ scenario, metric, huddle, other, ratio, target, status });

export function table(rows: Row[]): string {
  const head = "| scenario | metric | Huddle | peer / limit | ratio | target | status |\n|---|---|---|---|---|---|---|";
  const cell = (s: string) => s.replaceAll("|", "\\|");
  return [head, ...rows.map((r) => `| ${[r.scenario, r.metric, r.huddle, r.other, r.ratio, r.target, r.status].map(cell).join(" | ")} |`)].join("\n");
}

function version(cmd: string[]): string {
  try {
    const p = Bun.spawnSync(cmd, { stdout: "pipe", stderr: "pipe" });
    return (p.stdout.toString() || p.stderr.toString()).trim().split("\n")[0] ?? "?";
  } catch {
    return "not installed";
  }
}

function pkgVersion(name: string): string {
  try {
    return JSON.parse(readFileSync(`${ROOT}node_modules/${name}/package.json`, "utf8")).version;
  } catch {
    return "?";
  }
}

export function machine() {
  return {
    nproc: navigator.hardwareConcurrency,
    cpu: cpus()[0]?.model ?? "?",
    ramGiB: Math.round((totalmem() / 2 ** 30) * 10) / 10,
    kernel: version(["uname", "-r"]),
    bun: Bun.version,
    node: version(["node", "--version"]),
    redis: version(["redis-server", "--version"]),
    postgres: version(["psql", "--version"]),
    packages: Object.fromEntries(["elysia", "ioredis", "postgres", "socket.io", "socket.io-client", "@socket.io/redis-adapter", "bullmq"].map((p) => [p, pkgVersion(p)])),
    load: readFileSync("/proc/loadavg", "utf8").trim(),
  };
}

export function writeOutputs(results: ScenarioResult[], meta: Record<string, unknown>): { json: string; md: string } {
  mkdirSync(OUT_DIR, { recursive: true });
  const stamp = new Date().toISOString().replace(/[:.]/g, "-");
  const payload = { ...meta, machine: machine(), results };
  const json = `${OUT_DIR}/bench-${stamp}.json`;
  writeFileSync(json, JSON.stringify(payload, null, 2));
  writeFileSync(`${OUT_DIR}/latest.json`, JSON.stringify(payload, null, 2));
  const m = payload.machine;
  const notes = results.flatMap((r) => r.notes.map((n) => `- ${r.name}: ${n}`));
  const md = [
    `Measured ${new Date().toISOString()} with \`${meta.command}\` (${meta.mode}, ${meta.seconds} s).`,
    `Machine: ${m.nproc} × ${m.cpu}, ${m.ramGiB} GiB RAM, Linux ${m.kernel}; load average before: ${meta.loadBefore}.`,
    `Versions: Bun ${m.bun}, Node ${m.node}, ${m.redis}, ${m.postgres}; ${Object.entries(m.packages).map(([k, v]) => `${k} ${v}`).join(", ")}.`,
    "",
    table(results.flatMap((r) => r.rows)),
    "",
    ...results.flatMap((r) => (r.details ? [r.details, ""] : [])),
    ...(notes.length ? ["Notes:", ...notes, ""] : []),
    `Raw numbers: \`${json.replace(ROOT, "")}\`.`,
  ].join("\n");
  writeFileSync(`${OUT_DIR}/results.md`, md + "\n");
  return { json, md };
}
