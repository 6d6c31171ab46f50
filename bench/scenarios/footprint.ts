/**
 * Scenario 7, footprint on a small VM (`--only=footprint`): the server's
 * memory in both modes, started as `bun run start` does (src/main.ts serve):
 *
 * - embedded defaults (no DATABASE_URL / REDIS_URL: PGlite + memory engine,
 *   PGlite sandbox) on a fresh DATA_DIR; start -> /ready 200 is timed here;
 * - PostgreSQL + Redis (the bench's own database and redis-server);
 * - the binary (dist/huddle, as the Docker image runs it) with PostgreSQL +
 *   Redis, on a first start with a database of its own: RSS when idle.
 *
 * For each: RSS just after ready and when idle, 15 s after ready with nothing
 * asked (a first start imports the default pack in the background in between;
 * each a median of three samples a second apart),
 * the peak while judging JOBS submissions (sampled every 50 ms), RSS after
 * 1,000 chat messages, and for embedded the RSS once the sandbox's runner
 * processes stopped again (SANDBOX_IDLE_MS, shortened here). "process" is the
 * server alone; "with runners" adds its child processes (PGlite sandbox
 * runners). Their memory together is judged by PSS: the children run the same
 * `bun` executable, and a sum of RSS would count its shared pages (some
 * 45 MB) once per process although the machine holds them once. The RSS sum
 * is reported beside it.
 */
import { mkdtempSync, readdirSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import Redis from "ioredis";
import { api, huddleEnv, registerUsers, type BenchUser } from "../lib/huddle";
import { benchDatabase, startHuddle, waitFor, type Server } from "../lib/procs";
import { row, type Ctx, type ScenarioResult } from "../lib/report";
import { fmt, median } from "../lib/stats";
import { pssKB, rssKB } from "../lib/sys";
import { BINARY, ensureBinary } from "./startup";

const MESSAGES = 1000;
const IDLE_MS = 4000;
/** Idle is measured this long after ready: a first start imports the default pack in the background first. */
const QUIET_MS = 15_000;
const PROBLEM = { problem_id: "bookstore-fantasy-books", sql_query: "select b.title, a.name from books b join authors a on a.author_id = b.author_id join genres g on g.genre_id = b.genre_id where g.name = 'Fantasy' order by b.title" };

/** Child processes of `pid` (from /proc), e.g. the PGlite sandbox runners. */
function childrenOf(pid: number): number[] {
  const out: number[] = [];
  for (const d of readdirSync("/proc")) {
    if (!/^\d+$/.test(d)) continue;
    try {
      const stat = readFileSync(`/proc/${d}/stat`, "utf8");
      if (Number(stat.slice(stat.lastIndexOf(")") + 2).split(" ")[1]) === pid) out.push(Number(d));
    } catch {}
  }
  return out;
}

const mb = (kb: number) => kb / 1024;
const treeKB = (pid: number) => rssKB(pid) + childrenOf(pid).reduce((n, c) => n + rssKB(c), 0);
/** The server and its children as the machine holds them: PSS, so their shared `bun` pages count once. */
const treePssKB = (pid: number) => pssKB(pid) + childrenOf(pid).reduce((n, c) => n + pssKB(c), 0);

async function settled(pid: number): Promise<{ proc: number; tree: number }> {
  const p: number[] = [], t: number[] = [];
  for (let i = 0; i < 3; i++) {
    await Bun.sleep(1000);
    p.push(rssKB(pid));
    t.push(treeKB(pid));
  }
  return { proc: median(p), tree: median(t) };
}

/** Submits `jobs` (at most 4 in flight per user: the per-user cap is 5) and samples RSS until every verdict is in. */
async function judgePeak(server: Server, users: BenchUser[], jobs: number) {
  let peakProc = 0, peakTree = 0, peakTreePss = 0, runners = 0;
  const sampler = setInterval(() => {
    const pid = server.child.pid;
    peakProc = Math.max(peakProc, rssKB(pid));
    peakTree = Math.max(peakTree, treeKB(pid));
    peakTreePss = Math.max(peakTreePss, treePssKB(pid));
    runners = Math.max(runners, childrenOf(pid).length);
  }, 50);
  const verdicts: Record<string, number> = {};
  let next = 0;
  const t0 = performance.now();
  const worker = async (u: BenchUser) => {
    while (next < jobs) {
      next++;
      const sub = await api(server.base, "POST", "/problems/submit", PROBLEM, u.token);
      if (sub.status !== 202) throw new Error(`submit: ${sub.status} ${sub.text}`);
      for (;;) {
        const res = await api(server.base, "GET", `/problems/result/${sub.json.job_id}`, undefined, u.token);
        const v = res.json?.verdict;
        if (res.status === 200 && v && v !== "pending" && v !== "running") {
          verdicts[v] = (verdicts[v] ?? 0) + 1;
          break;
        }
        await Bun.sleep(50);
      }
    }
  };
  try {
    await Promise.all(users.flatMap((u) => [worker(u), worker(u), worker(u), worker(u)]));
  } finally {
    clearInterval(sampler);
  }
  return { jobs, seconds: (performance.now() - t0) / 1000, peakProcKB: peakProc, peakTreeKB: peakTree, peakTreePssKB: peakTreePss, maxChildren: runners, verdicts };
}

async function sendMessages(server: Server, [a, b]: BenchUser[]) {
  for (let i = 0; i < MESSAGES; i += 20) {
    await Promise.all(Array.from({ length: 20 }, async (_, j) => {
      const res = await api(server.base, "POST", "/chat/send", { to: b!.id, content: `footprint message ${i + j} ${"x".repeat(80)}` }, a!.token);
      if (res.status !== 201) throw new Error(`send: ${res.status} ${res.text}`);
    }));
  }
}

async function measureMode(ctx: Ctx, mode: "embedded" | "postgres", jobs: number) {
  const dir = mkdtempSync(join(tmpdir(), "huddle-footprint-"));
  const env: Record<string, string> = mode === "embedded"
    ? { DATA_DIR: dir, SANDBOX_IDLE_MS: String(IDLE_MS) }
    : { DATA_DIR: dir, DATABASE_URL: ctx.db.url, REDIS_URL: ctx.redis.url };
  const t0 = performance.now();
  // What `bun run start` runs (package.json), started directly so that the pid measured is the server's.
  const server = await startHuddle(`huddle-footprint-${mode}`, huddleEnv(env), ["bun", "--smol", "src/main.ts", "serve"]);
  const readyMs = performance.now() - t0;
  try {
    // Just after ready a first start is still importing the default pack; idle is when nothing runs.
    const atReady = await settled(server.child.pid);
    await Bun.sleep(Math.max(0, QUIET_MS - (performance.now() - t0 - readyMs)));
    const idle = await settled(server.child.pid);
    const users = await registerUsers(server.base, 6, `fp${mode.slice(0, 2)}`);
    // A fresh catalog is filled by the sandbox's first import of the default pack (in the background).
    await waitFor("problem catalog", async () => (await api(server.base, "GET", `/problems/${PROBLEM.problem_id}`, undefined, users[0]!.token)).status === 200, 120_000, server.child, 200);
    const judging = await judgePeak(server, users, jobs);
    const afterJudging = mode === "embedded" ? (await Bun.sleep(IDLE_MS + 1000), await settled(server.child.pid)) : undefined;
    await sendMessages(server, users);
    const afterMessages = await settled(server.child.pid);
    ctx.log(`footprint ${mode}: ready ${Math.round(readyMs)} ms, at ready ${fmt(mb(atReady.proc))} MB, idle ${fmt(mb(idle.proc))} MB, judging peak ${fmt(mb(judging.peakProcKB))} / ${fmt(mb(judging.peakTreeKB))} MB RSS, ${fmt(mb(judging.peakTreePssKB))} MB PSS with runners (${JSON.stringify(judging.verdicts)}), after ${MESSAGES} messages ${fmt(mb(afterMessages.proc))} MB`);
    return { readyMs, atReady, idle, judging, afterJudging, afterMessages };
  } finally {
    await server.child.stop(15_000);
    rmSync(dir, { recursive: true, force: true });
  }
}

/** The binary as the Docker image runs it, with PostgreSQL + Redis, first start on a database of its own: RSS when idle. */
async function binaryIdle(ctx: Ctx) {
  ensureBinary(ctx);
  const db = await benchDatabase(`${ctx.db.name}_bin`);
  await flushRedis(ctx);
  const dir = mkdtempSync(join(tmpdir(), "huddle-footprint-"));
  const t0 = performance.now();
  const server = await startHuddle("huddle-footprint-binary", huddleEnv({ DATA_DIR: dir, DATABASE_URL: db.url, REDIS_URL: ctx.redis.url }), [BINARY, "serve"]);
  try {
    await Bun.sleep(Math.max(0, QUIET_MS - (performance.now() - t0)));
    const idle = await settled(server.child.pid);
    ctx.log(`footprint binary (PostgreSQL + Redis, first start): idle ${fmt(mb(idle.proc))} MB`);
    return idle;
  } finally {
    await server.child.stop(15_000);
    rmSync(dir, { recursive: true, force: true });
    await db.drop();
  }
}

async function flushRedis(ctx: Ctx) {
  const redis = new Redis(ctx.redis.url);
  await redis.flushall();
  redis.disconnect();
}

export async function footprintScenario(ctx: Ctx): Promise<ScenarioResult> {
  const jobs = ctx.full ? 200 : 60;
  const embedded = await measureMode(ctx, "embedded", jobs);
  await flushRedis(ctx);
  const pg = await measureMode(ctx, "postgres", jobs);
  const binary = await binaryIdle(ctx);
  const sc = "footprint (bun run start, RSS)";
  const e = embedded, p = pg;
  const met = (ok: boolean) => (ok ? "met" : "missed");
  return {
    name: "footprint",
    rows: [
      row(sc, "embedded: start → /ready 200 on a fresh DATA_DIR, ms", fmt(e.readyMs), "", "", "< 1500", met(e.readyMs < 1500)),
      row(sc, "embedded: just after ready (first start: default pack import running), MB (process / with its runner)", `${fmt(mb(e.atReady.proc))} / ${fmt(mb(e.atReady.tree))}`),
      row(sc, `embedded: ${QUIET_NOTE}, MB (process / with runners)`, `${fmt(mb(e.idle.proc))} / ${fmt(mb(e.idle.tree))}`, "", "", "≤ 256", met(e.idle.tree <= 256 * 1024)),
      row(sc, `embedded: peak judging ${jobs} jobs, MB (process RSS / with runner processes: RSS summed, PSS summed)`, `${fmt(mb(e.judging.peakProcKB))} / ${fmt(mb(e.judging.peakTreeKB))}, ${fmt(mb(e.judging.peakTreePssKB))}`, `${e.judging.maxChildren} child process(es) at most`, "", "≤ 384 (PSS)", met(e.judging.peakTreePssKB <= 384 * 1024)),
      row(sc, `embedded: ${SANDBOX_IDLE_NOTE}, MB`, fmt(mb(e.afterJudging!.tree)), "", "", "≤ 256", met(e.afterJudging!.tree <= 256 * 1024)),
      row(sc, `embedded: after ${MESSAGES} messages, MB`, fmt(mb(e.afterMessages.tree))),
      row(sc, "PostgreSQL + Redis: just after ready (first start: default pack import running), MB", fmt(mb(p.atReady.proc))),
      row(sc, `PostgreSQL + Redis: ${QUIET_NOTE}, MB (bun run start / the binary, dist/huddle)`, `${fmt(mb(p.idle.proc))} / ${fmt(mb(binary.proc))}`, "", "", "< 100 (binary)", met(binary.proc < 100 * 1024)),
      row(sc, `PostgreSQL + Redis: peak judging ${jobs} jobs, MB`, fmt(mb(p.judging.peakProcKB))),
      row(sc, `PostgreSQL + Redis: after ${MESSAGES} messages, MB`, fmt(mb(p.afterMessages.proc))),
    ],
    notes: [`judging: ${JSON.stringify(e.judging.verdicts)} embedded in ${fmt(e.judging.seconds)} s, ${JSON.stringify(p.judging.verdicts)} PostgreSQL in ${fmt(p.judging.seconds)} s.`],
    raw: { embedded, postgres: pg, binary },
  };
}

const QUIET_NOTE = `idle (${QUIET_MS / 1000} s after ready, nothing asked)`;
const SANDBOX_IDLE_NOTE = `idle again after judging (runners stopped, SANDBOX_IDLE_MS=${IDLE_MS})`;
