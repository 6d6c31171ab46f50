/**
 * Scenario 3b, real SQL jobs through the full path: POST /problems/submit ->
 * queue -> worker actor -> PostgreSQL sandbox -> verdict -> `problem.result`
 * frame on the user's socket -> GET /problems/result/{job_id}. One Huddle
 * instance with the defaults for a PostgreSQL sandbox (WORKER_CONCURRENCY=16,
 * RUNNER_POOL_SIZE=8); 20 users keep 2 submissions each in flight (the
 * per-user cap is 5). Then a class: 300 users submit once each, all at the
 * same moment (#14: "a class of 300 submitting at once"), timed from the
 * first submit to the last verdict.
 *
 * Times: end-to-end is the client's (submit sent -> result frame). The
 * server's own split comes from the result: run = duration_ms (the query in
 * the sandbox), wait+overhead = finished_at - created_at - duration_ms (queue
 * wait, claim, comparison and the verdict write).
 */
import Redis from "ioredis";
import { api, huddleEnv, seedUsers, type BenchUser } from "../lib/huddle";
import { startHuddle, waitFor, type Server } from "../lib/procs";
import { row, type Ctx, type ScenarioResult } from "../lib/report";
import { fmt, Recorder } from "../lib/stats";
import { cpuMeter } from "../lib/sys";

const KINDS = {
  trivial: { problem: "bookstore-authors-unknown-birth", sql: "select name from authors where born is null" },
  join: {
    problem: "bookstore-fantasy-books",
    sql: "select b.title, a.name from books b join authors a on a.author_id = b.author_id join genres g on g.genre_id = b.genre_id where g.name = 'Fantasy' order by b.title",
  },
} as const;

type Waiters = Map<string, (at: number) => void>;

/** Users of the class burst, one submission each. */
const CLASS = 300;

function resultSocket(server: Server, user: BenchUser, waiters: Waiters, early: Map<string, number>): Promise<WebSocket> {
  const ws = new WebSocket(`${server.ws}/chat/subscribe?token=${user.token}`);
  ws.addEventListener("message", (e) => {
    const f = JSON.parse(e.data as string);
    if (f.type !== "problem.result") return;
    const at = performance.now();
    const w = waiters.get(f.job_id);
    if (w) w(at);
    else early.set(f.job_id, at); // the frame beat the 202 back to us
  });
  return new Promise((resolve, reject) => {
    ws.addEventListener("message", (e) => JSON.parse(e.data as string).type === "ready" && resolve(ws));
    ws.addEventListener("close", () => reject(new Error("result socket closed")));
  });
}

async function phase(server: Server, users: BenchUser[], kind: keyof typeof KINDS, jobs: number, perUser: number) {
  const waiters: Waiters = new Map();
  const early = new Map<string, number>();
  const sockets = await Promise.all(users.map((u) => resultSocket(server, u, waiters, early)));
  const e2e = new Recorder(), run = new Recorder(), wait = new Recorder();
  const verdicts: Record<string, number> = {};
  let next = 0;
  const t0 = performance.now();
  const one = async (u: BenchUser) => {
    while (next < jobs) {
      next++;
      const ts = performance.now();
      const sub = await api(server.base, "POST", "/problems/submit", { problem_id: KINDS[kind].problem, sql_query: KINDS[kind].sql }, u.token);
      if (sub.status !== 202) throw new Error(`submit: ${sub.status} ${sub.text}`);
      const id = sub.json.job_id as string;
      const at = early.get(id) ?? (await new Promise<number>((resolve, reject) => {
        const timer = setTimeout(() => reject(new Error(`no result for ${id} in 60 s`)), 60_000);
        waiters.set(id, (v) => (clearTimeout(timer), resolve(v)));
      }));
      waiters.delete(id);
      early.delete(id);
      e2e.add(at - ts);
      const res = await api(server.base, "GET", `/problems/result/${id}`, undefined, u.token);
      const v = res.json;
      verdicts[v?.verdict ?? `http ${res.status}`] = (verdicts[v?.verdict ?? `http ${res.status}`] ?? 0) + 1;
      if (v?.finished_at) {
        run.add(v.duration_ms);
        wait.add(Date.parse(v.finished_at) - Date.parse(v.created_at) - v.duration_ms);
      }
    }
  };
  await Promise.all(users.flatMap((u) => Array.from({ length: perUser }, () => one(u))));
  const seconds = (performance.now() - t0) / 1000;
  for (const s of sockets) s.close();
  return { kind, jobs: e2e.count, seconds, jobsPerSec: e2e.count / seconds, e2e: e2e.summary(), run: run.summary(), waitAndOverhead: wait.summary(), verdicts };
}

/** Sum and count of each judge stage so far, from the server's /metrics (huddle_judge_stage_seconds). */
async function stageTotals(server: Server): Promise<Record<string, { sum: number; count: number }>> {
  const text = await fetch(`${server.base}/metrics`).then((r) => r.text());
  const out: Record<string, { sum: number; count: number }> = {};
  for (const m of text.matchAll(/^huddle_judge_stage_seconds_(sum|count)\{stage="(\w+)"\} ([\d.e+-]+)$/gm)) {
    const e = (out[m[2]!] ??= { sum: 0, count: 0 });
    e[m[1] as "sum" | "count"] = Number(m[3]);
  }
  return out;
}

/** Mean ms per stage between two samples. */
function stageMeans(before: Awaited<ReturnType<typeof stageTotals>>, after: Awaited<ReturnType<typeof stageTotals>>): Record<string, number> {
  const means: Record<string, number> = {};
  for (const [stage, a] of Object.entries(after)) {
    const b = before[stage] ?? { sum: 0, count: 0 };
    if (a.count > b.count) means[stage] = Number((((a.sum - b.sum) / (a.count - b.count)) * 1000).toFixed(2));
  }
  return means;
}

export async function judgeScenario(ctx: Ctx): Promise<ScenarioResult> {
  const redis = new Redis(ctx.redis.url);
  await redis.flushall();
  redis.disconnect();
  // BENCH_JUDGE_ENV='{"WORKER_CONCURRENCY":"8"}' tries other pool sizes side by side with the defaults.
  const extra = JSON.parse(process.env.BENCH_JUDGE_ENV ?? "{}") as Record<string, string>;
  const server = await startHuddle("huddle-judge", { ...huddleEnv(extra), DATABASE_URL: ctx.db.url, REDIS_URL: ctx.redis.url });
  try {
    const users = await seedUsers(ctx.db.url, 20, "judge");
    // /ready does not wait for the sandbox (the pack loads in the background): wait for the catalog, then warm up.
    await waitFor("problem catalog", async () => (await api(server.base, "GET", `/problems/${KINDS.join.problem}`, undefined, users[0]!.token)).status === 200, 120_000, server.child, 200);
    for (const kind of ["trivial", "join"] as const) await phase(server, users.slice(0, 1), kind, 2, 1);
    const jobs = ctx.full ? 400 : 60;
    const phases = [];
    for (const kind of ["trivial", "join"] as const) {
      const meter = cpuMeter({ server: server.child.pid, redis: ctx.redis.child.pid, bench: process.pid });
      const before = await stageTotals(server);
      const p = { ...(await phase(server, users, kind, jobs, 2)), cpu: meter() };
      const stagesMs = stageMeans(before, await stageTotals(server));
      phases.push({ ...p, stagesMs });
      ctx.log(`judge: ${kind} -> ${p.jobsPerSec.toFixed(1)} jobs/s, e2e p50 ${p.e2e.p50.toFixed(1)} p99 ${p.e2e.p99.toFixed(1)} ms, run p50 ${p.run.p50} p99 ${p.run.p99} ms, wait+overhead p50 ${p.waitAndOverhead.p50} p99 ${p.waitAndOverhead.p99} ms, ${JSON.stringify(p.verdicts)}, stages (mean ms) ${JSON.stringify(stagesMs)}, cpu ${JSON.stringify(p.cpu)}`);
    }
    const classUsers = await seedUsers(ctx.db.url, CLASS, "class");
    const burst = await phase(server, classUsers, "trivial", CLASS, 1);
    ctx.log(`judge: class of ${CLASS} at once -> all verdicts in ${burst.seconds.toFixed(2)} s (${burst.jobsPerSec.toFixed(1)} jobs/s), e2e p50 ${burst.e2e.p50.toFixed(1)} p99 ${burst.e2e.p99.toFixed(1)} ms, ${JSON.stringify(burst.verdicts)}`);
    const sc = `SQL judge, full path (${extra.WORKER_CONCURRENCY ?? "16"} workers, ${extra.RUNNER_POOL_SIZE ?? "8"} runners)`;
    const rows = phases.flatMap((p) => [
      row(sc, `${p.kind} SELECT: jobs/s (${p.jobs} jobs, 40 in flight)`, fmt(p.jobsPerSec), "", "", "", p.verdicts.accepted === p.jobs ? "" : "missed"),
      row(sc, `${p.kind}: end-to-end / run / wait+overhead p50 ms`, `${fmt(p.e2e.p50)} / ${fmt(p.run.p50)} / ${fmt(p.waitAndOverhead.p50)}`),
      row(sc, `${p.kind}: end-to-end / run / wait+overhead p99 ms`, `${fmt(p.e2e.p99)} / ${fmt(p.run.p99)} / ${fmt(p.waitAndOverhead.p99)}`),
      row(sc, `${p.kind}: server time per job by stage, mean ms (start / judge / finish / announce)`, ["start", "judge", "finish", "announce"].map((k) => p.stagesMs[k] ?? "–").join(" / ")),
    ]);
    rows.push(
      row(sc, `a class of ${CLASS} submitting at once (trivial): jobs/s, first submit -> last verdict`, fmt(burst.jobsPerSec), "", "", "≥ 1,000", burst.jobsPerSec >= 1000 ? "met" : "missed"),
      row(sc, `a class of ${CLASS} at once: end-to-end p50 / p99 ms`, `${fmt(burst.e2e.p50)} / ${fmt(burst.e2e.p99)}`, "", "", "p99 < 250", burst.e2e.p99 < 250 ? "met" : "missed"),
    );
    const notes = phases.filter((p) => p.verdicts.accepted !== p.jobs).map((p) => `${p.kind}: verdicts ${JSON.stringify(p.verdicts)} (all should be accepted).`);
    return { name: "judge", rows, notes, raw: { phases, burst } };
  } finally {
    await server.child.stop();
  }
}
