/**
 * What the problem page is given: hints, the expected-output preview when the
 * pack allows it, the reference solution only after my first accepted
 * submission, acceptance rate and solvers, my solved count and streak,
 * problem titles in my submissions, and client_id making a repeated submit
 * return the first job.
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { call, registerUser } from "../../helpers/app";
import { buildTestRuntime, type TestRuntime } from "../../helpers/runtime";
import { defaultPack } from "../../../src/judge/default-pack";
import { streakOf } from "../../../src/modules/problems/stats";

describe("problem page data", () => {
  let rt: TestRuntime;
  const pack = defaultPack().pack;
  const easy = pack.problems.find((p) => p.show_expected && p.hints?.length)!;
  const plain = pack.problems.find((p) => !p.show_expected)!;

  beforeAll(async () => {
    rt = await buildTestRuntime("pglite", { config: { WORKER_CONCURRENCY: "1", RUNNER_POOL_SIZE: "1" } });
  }, 120_000);
  afterAll(async () => {
    await rt?.close();
  });

  async function verdictOf(token: string, jobId: string) {
    for (let i = 0; i < 400; i++) {
      const r = await call(rt.app, "GET", `/problems/result/${jobId}`, { token });
      if (r.json?.status === "completed" || r.json?.status === "failed") return r.json.verdict as string;
      await Bun.sleep(100);
    }
    throw new Error("no verdict in 40 s");
  }

  test("hints, preview, solution after solving, stats, progress, titles; client_id submits once", async () => {
    const u = await registerUser(rt.app);
    const api = (method: string, path: string, body?: unknown) => call(rt.app, method, path, { token: u.access_token, body });
    for (let i = 0; i < 600 && !(await api("GET", "/problems")).json?.problems?.length; i++) await Bun.sleep(100);

    const before = (await api("GET", `/problems/${easy.id}`)).json;
    expect(before.hints).toEqual(easy.hints!);
    expect(before.solution).toBeNull();
    expect(before.expected_preview.rows.length).toBeGreaterThan(0);
    expect(before.expected_preview.rows.length).toBeLessThanOrEqual(5);
    expect(before.expected_preview.columns.map((c: { name: string }) => c.name)).toEqual(["title", "price"]);
    expect(before.stats).toEqual({ submissions: 0, accepted: 0, acceptance_rate: null, solvers: 0 });
    expect((await api("GET", `/problems/${plain.id}`)).json.expected_preview).toBeNull();
    expect((await api("GET", "/problems")).json.me).toEqual({ solved: 0, streak: 0 });

    const wrong = await api("POST", "/problems/submit", { problem_id: easy.id, sql_query: "select title, price from books where price <= 10" });
    expect(await verdictOf(u.access_token, wrong.json.job_id)).not.toBe("accepted");
    const clientId = crypto.randomUUID();
    const [a, b] = await Promise.all([1, 2].map(() => api("POST", "/problems/submit", { problem_id: easy.id, sql_query: easy.solution, client_id: clientId })));
    expect([a!.status, b!.status]).toEqual([202, 202]);
    expect(a!.json.job_id).toBe(b!.json.job_id);
    expect(await verdictOf(u.access_token, a!.json.job_id)).toBe("accepted");
    const again = await api("POST", "/problems/submit", { problem_id: easy.id, sql_query: easy.solution, client_id: clientId });
    expect(again.json.job_id).toBe(a!.json.job_id);

    const after = (await api("GET", `/problems/${easy.id}`)).json;
    expect(after.solution).toBe(easy.solution);
    expect(after.stats).toEqual({ submissions: 2, accepted: 1, acceptance_rate: 0.5, solvers: 1 });
    const list = (await api("GET", "/problems")).json;
    expect(list.me).toEqual({ solved: 1, streak: 1 });
    expect(list.problems.find((p: { id: string }) => p.id === easy.id).stats.solvers).toBe(1);
    const mine = (await api("GET", "/problems/submissions")).json.submissions;
    expect(mine.length).toBe(2);
    expect(mine.map((s: { problem_title: string }) => s.problem_title)).toEqual([easy.title, easy.title]);
  }, 90_000);

  test("a streak counts consecutive days up to today or yesterday", () => {
    const now = Date.parse("2026-03-10T12:00:00Z");
    expect(streakOf([], now)).toBe(0);
    expect(streakOf(["2026-03-10", "2026-03-09", "2026-03-07"], now)).toBe(2);
    expect(streakOf(["2026-03-09", "2026-03-08"], now)).toBe(2);
    expect(streakOf(["2026-03-08"], now)).toBe(0);
  });
});
