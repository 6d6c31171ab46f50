/**
 * `bun run bench` (quick, under 3 minutes) or `bun run bench -- --full`.
 * Starts its own redis-server and the `huddle_bench` database, runs the
 * scenarios one after another, prints one markdown table and writes the raw
 * JSON, results.md and the latency-vs-rate plot. See bench/README.md.
 *
 * Flags: --full, --only=chat,persist,queue,judge,limits,memory,startup,scaleout,footprint,
 * --peer-runtime=node|bun (Socket.IO peer), --rates=1000,2000 --clients=200
 * --room=10 --measure=MS (chat), --sockets=N (memory), --build (rebuild dist/huddle), --no-plot.
 */
import { benchDatabase, killAll, killChildrenOnExit, ownRedis } from "./lib/procs";
import { OUT_DIR, row, table, writeOutputs, type Ctx, type ScenarioResult } from "./lib/report";
import { chatOpts, chatScenario } from "./scenarios/chat";
import { persistScenario } from "./scenarios/persist";
import { queueScenario } from "./scenarios/queue";
import { judgeScenario } from "./scenarios/judge";
import { limitsScenario } from "./scenarios/limits";
import { memoryScenario } from "./scenarios/memory";
import { startupScenario } from "./scenarios/startup";
import { scaleoutScenario } from "./scenarios/scaleout";
import { footprintScenario } from "./scenarios/footprint";
import { renderPlot } from "./lib/plot";
import { ROOT } from "./lib/procs";

const argv = process.argv.slice(2).filter((a) => a !== "--");
const flags: Record<string, string> = {};
for (const a of argv) {
  const m = /^--([a-z-]+)(?:=(.*))?$/.exec(a);
  if (!m) {
    console.error(`unknown argument ${a}`);
    process.exit(2);
  }
  flags[m[1]!] = m[2] ?? "true";
}
const full = flags.full === "true";
const ALL = ["limits", "chat", "persist", "queue", "judge", "memory", "startup", "scaleout", "footprint"] as const;
const only = flags.only ? flags.only.split(",") : [...ALL];
for (const o of only) if (!(ALL as readonly string[]).includes(o)) (console.error(`unknown scenario ${o}; one of ${ALL.join(",")}`), process.exit(2));

const started = performance.now();
const log = (msg: string) => console.error(`[bench ${((performance.now() - started) / 1000).toFixed(1).padStart(6)} s] ${msg}`);
// Every generator stops by itself; this is the backstop for a hung scenario.
const deadline = setTimeout(() => (log("deadline reached; killing everything"), killAll(), process.exit(3)), (full ? 45 : 6) * 60_000);

killChildrenOnExit();
const loadBefore = (await Bun.file("/proc/loadavg").text()).split(" ").slice(0, 3).join(" ");
log(`${full ? "full" : "quick"} run: ${only.join(", ")} (load average ${loadBefore})`);
const redis = await ownRedis();
const db = await benchDatabase();
const ctx: Ctx = { full, redis, db, peerRuntime: (flags["peer-runtime"] as "bun" | "node") ?? "node", limits: {}, log };

const runners: Record<(typeof ALL)[number], () => Promise<ScenarioResult>> = {
  limits: () => limitsScenario(ctx),
  chat: () => chatScenario(ctx, chatOpts(full, flags)),
  persist: () => persistScenario(ctx),
  queue: () => queueScenario(ctx),
  judge: () => judgeScenario(ctx),
  memory: () => memoryScenario(ctx, Number(flags.sockets ?? (full ? 10_000 : 2_000))),
  startup: () => startupScenario(ctx, flags.build === "true"),
  scaleout: () => scaleoutScenario(ctx),
  footprint: () => footprintScenario(ctx),
};

const results: ScenarioResult[] = [];
for (const name of ALL.filter((n) => only.includes(n))) {
  const t0 = performance.now();
  try {
    results.push(await runners[name]());
  } catch (err) {
    log(`${name} failed: ${(err as Error).stack ?? err}`);
    results.push({ name, rows: [row(name, "FAILED", String((err as Error).message).split("\n")[0]!.slice(0, 160))], raw: { error: String(err) }, notes: [] });
  }
  log(`${name} done in ${((performance.now() - t0) / 1000).toFixed(1)} s`);
}

await db.drop().catch((err) => log(`dropping ${db.name} failed: ${err}`));
await redis.stop();
const seconds = Math.round((performance.now() - started) / 1000);
const command = `bun run bench${full ? " -- --full" : ""}${argv.filter((a) => a !== "--full").map((a) => ` ${a}`).join("")}`;
const { json } = writeOutputs(results, { command, mode: full ? "full" : "quick", seconds, loadBefore, flags });
const chat = results.find((r) => r.name === "chat");
if (chat && flags["no-plot"] !== "true" && (chat.raw as { steps?: unknown[] }).steps?.length) {
  const png = full ? `${ROOT}bench/latency-vs-rate.png` : `${OUT_DIR}/latency-vs-rate.png`;
  const sub = `${full ? "full" : "quick"} run ${new Date().toISOString().slice(0, 16)}Z, ${navigator.hardwareConcurrency} cores; load average before ${loadBefore}`;
  await renderPlot((chat.raw as { steps: never[] }).steps, png, sub).then(() => log(`plot: ${png}`), (err) => log(`plot failed: ${err}`));
}
console.log(table(results.flatMap((r) => r.rows)));
log(`raw JSON: ${json}; markdown: ${OUT_DIR}/results.md; ${seconds} s in all`);
clearTimeout(deadline);
killAll();
process.exit(0);
