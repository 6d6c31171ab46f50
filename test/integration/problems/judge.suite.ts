/**
 * The SQL judge end to end through the API: catalog, submit, worker, sandbox,
 * verdict, cached result, live problem.result frame.
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { call, registerUser } from "../../helpers/app";
import { TestSocket, type TestRuntime } from "../../helpers/runtime";
import { defaultPack } from "../../../src/judge/default-pack";
import { syncPack } from "../../../src/modules/problems/catalog";
import type { Supervisor } from "../../../actors/kernel";
import type { SqlRunnersActor } from "../../../actors/sql-runners.actor";
import { eq } from "drizzle-orm";
import { submissions } from "../../../src/db/schema";

export function judgeSuite(name: string, build: () => Promise<TestRuntime>) {
  describe(`SQL judge (${name})`, () => {
    let rt: TestRuntime;
    beforeAll(async () => {
      rt = await build();
    }, 120_000);
    afterAll(async () => {
      await rt?.close();
    });
    const pack = defaultPack().pack;
    const easy = pack.problems[0]!;

    async function waitResult(token: string, jobId: string) {
      for (let i = 0; i < 400; i++) {
        const r = await call(rt.app, "GET", `/problems/result/${jobId}`, { token });
        if (r.json?.status === "completed" || r.json?.status === "failed") return r.json;
        await Bun.sleep(100);
      }
      throw new Error("no verdict in 40 s");
    }

    test("catalog lists the default pack; details show tables, columns and sample rows", async () => {
      const u = await registerUser(rt.app);
      let list: any;
      for (let i = 0; i < 600; i++) {
        list = await call(rt.app, "GET", "/problems", { token: u.access_token });
        if (list.json?.problems?.length) break;
        await Bun.sleep(100);
      }
      expect(list.json.problems.length).toBeGreaterThanOrEqual(15);
      expect(list.json.problems[0]).toEqual({ id: easy.id, title: easy.title, difficulty: easy.difficulty, pack: pack.id, solved: false, stats: expect.any(Object) });
      const detail = await call(rt.app, "GET", `/problems/${easy.id}`, { token: u.access_token });
      expect(detail.json.statement).toBe(easy.statement);
      expect(detail.json.hidden_tests).toBe(easy.tests?.length ?? 0);
      expect(detail.json.hidden_tests).toBeGreaterThan(0);
      expect(detail.json.tables.length).toBeGreaterThan(0);
      expect(detail.json.tables[0].columns.length).toBeGreaterThan(0);
      expect(detail.json.tables[0].sample.rows.length).toBeGreaterThan(0);
      expect((await call(rt.app, "GET", "/problems/no-such-problem", { token: u.access_token })).status).toBe(404);
    }, 90_000);

    test("a correct solution is accepted, live over the socket and through the result endpoint", async () => {
      const u = await registerUser(rt.app);
      const s = await TestSocket.connect(`${rt.wsBase}/chat/subscribe?token=${u.access_token}`);
      await s.next((f) => f.type === "ready");
      const sub = await call(rt.app, "POST", "/problems/submit", { token: u.access_token, body: { problem_id: easy.id, sql_query: easy.solution } });
      expect(sub.status).toBe(202);
      expect(sub.json.status).toBe("queued");
      const frame = await s.next((f) => f.type === "problem.result" && f.job_id === sub.json.job_id, 40_000);
      expect(frame.verdict).toBe("accepted");
      const result = await waitResult(u.access_token, sub.json.job_id);
      expect(result).toMatchObject({ job_id: sub.json.job_id, problem_id: easy.id, status: "completed", verdict: "accepted" });
      expect(result.rows.length).toBe(result.rows_returned);
      s.close();
      const other = await registerUser(rt.app);
      expect((await call(rt.app, "GET", `/problems/result/${sub.json.job_id}`, { token: other.access_token })).status).toBe(404);
      const mine = await call(rt.app, "GET", "/problems/submissions", { token: u.access_token });
      expect(mine.json.submissions.map((x: { job_id: string }) => x.job_id)).toEqual([sub.json.job_id]);
      // The list carries no result rows (issue item 1); the detail endpoint above does.
      expect(mine.json.submissions[0]).toMatchObject({ rows: [], rows_returned: result.rows_returned });
      expect(result.rows.length).toBeGreaterThan(0);
      const list = await call(rt.app, "GET", "/problems", { token: u.access_token });
      expect(list.json.problems.find((p: { id: string }) => p.id === easy.id).solved).toBe(true);
    }, 60_000);

    test("a quick job records its attempt without a processing mark; a slow one shows processing while it runs", async () => {
      const u = await registerUser(rt.app);
      const submit = (sql_query: string) => call(rt.app, "POST", "/problems/submit", { token: u.access_token, body: { problem_id: easy.id, sql_query } });
      const quick = await submit(easy.solution);
      expect((await waitResult(u.access_token, quick.json.job_id)).verdict).toBe("accepted");
      // The first attempt wrote no processing mark, so its terminal write records the attempt.
      const [row] = await rt.database.db.select({ attempts: submissions.attempts }).from(submissions).where(eq(submissions.id, quick.json.job_id));
      expect(row!.attempts).toBe(1);

      const slow = await submit("select count(*) from generate_series(1, 3000000) g");
      expect(slow.status).toBe(202);
      const seen = new Set<string>();
      let last: any;
      for (let i = 0; i < 2000; i++) {
        last = (await call(rt.app, "GET", `/problems/result/${slow.json.job_id}`, { token: u.access_token })).json;
        seen.add(last.status);
        if (last.status === "completed" || last.status === "failed") break;
        await Bun.sleep(20);
      }
      // Running past RUNNING_MARK_MS: the user saw it move from queued to processing, then end.
      expect(seen.has("processing")).toBe(true);
      expect(["completed", "failed"]).toContain(last.status);
    }, 90_000);

    test("wrong answers, SQL errors and forbidden statements get their verdicts", async () => {
      const u = await registerUser(rt.app);
      const cases: [string, string][] = [
        ["select 1 as x where false", "wrong_answer"],
        ["select * from no_such_table", "sql_error"],
        ["drop table anything", "forbidden"],
      ];
      for (const [sql, verdict] of cases) {
        const sub = await call(rt.app, "POST", "/problems/submit", { token: u.access_token, body: { problem_id: easy.id, sql_query: sql } });
        const r = await waitResult(u.access_token, sub.json.job_id);
        expect(r.verdict).toBe(verdict);
        expect(r.error).toBeTruthy();
      }
    }, 60_000);

    test("bad submissions are refused with 4xx", async () => {
      const u = await registerUser(rt.app);
      const submit = (body: unknown) => call(rt.app, "POST", "/problems/submit", { token: u.access_token, body });
      expect((await submit({ problem_id: "nope", sql_query: "select 1" })).status).toBe(404);
      expect((await submit({ problem_id: easy.id, sql_query: "   " })).status).toBe(400);
      expect((await submit({ problem_id: easy.id, sql_query: "x".repeat(10_001) })).status).toBe(400);
      expect((await submit({ problem_id: easy.id })).status).toBe(400);
      expect((await call(rt.app, "GET", "/problems/result/not-a-uuid", { token: u.access_token })).status).toBe(400);
    }, 30_000);

    test("run before submit: columns and rows, errors with their position and hint, no verdict, nothing stored", async () => {
      const u = await registerUser(rt.app);
      const run = (sql_query: string, problem_id = easy.id) => call(rt.app, "POST", "/problems/run", { token: u.access_token, body: { problem_id, sql_query } });
      let ok = await run(easy.solution);
      for (let i = 0; i < 100 && ok.status === 503; i++) ok = (await Bun.sleep(200), await run(easy.solution)); // the runners open at start-up
      expect(ok.status).toBe(200);
      expect(ok.json).toMatchObject({ error: null, truncated: false });
      expect(ok.json.columns.length).toBeGreaterThan(0);
      expect(ok.json.rows.length).toBe(ok.json.rows_returned);
      const many = await run("select g from generate_series(1, 500) g");
      expect(many.json).toMatchObject({ rows_returned: 100, truncated: true, error: null });
      const syntax = await run("select title\nfrom books\nwher price < 10");
      expect(syntax.json).toMatchObject({ rows: [], error: { verdict: "sql_error", sqlstate: "42601", position: 30 } });
      const runtime = await run("select titel from books");
      expect(runtime.json.error).toMatchObject({ verdict: "sql_error", sqlstate: "42703", position: 8 });
      const hinted = await run("select length(42) from books");
      expect(hinted.json.error).toMatchObject({ sqlstate: "42883", hint: expect.stringMatching(/explicit type casts/) });
      expect((await run("delete from books")).json.error).toMatchObject({ verdict: "forbidden" });
      expect((await run("select 1", "no-such-problem")).status).toBe(404);
      expect((await run("  ")).status).toBe(400);
      const mine = await call(rt.app, "GET", "/problems/submissions", { token: u.access_token });
      expect(mine.json.submissions).toEqual([]);
      expect((await call(rt.app, "POST", "/problems/run", { body: { problem_id: easy.id, sql_query: "select 1" } })).status).toBe(401);
    }, 90_000);

    test("a re-imported pack is judged against its new expected results at once (no stale cache)", async () => {
      const u = await registerUser(rt.app);
      const judgeOnce = async (sql: string) => {
        const sub = await call(rt.app, "POST", "/problems/submit", { token: u.access_token, body: { problem_id: easy.id, sql_query: sql } });
        expect(sub.status).toBe(202);
        return (await waitResult(u.access_token, sub.json.job_id)).verdict;
      };
      expect(await judgeOnce(easy.solution)).toBe("accepted"); // the judge has now cached the expected result
      const runners = rt.system.root.child<Supervisor>("judge")!.child<SqlRunnersActor>("sql-runners")!;
      const pool = await runners.ready();
      const changed = defaultPack();
      changed.pack.problems[0]!.solution = "select 42 as answer";
      try {
        expect(await syncPack(rt.database.db, pool, changed, { force: true, broker: rt.engine.broker })).toBe("imported");
        await Bun.sleep(100); // the import notice travels through the broker
        expect(await judgeOnce(easy.solution)).toBe("wrong_answer");
        expect(await judgeOnce("select 42 as answer")).toBe("accepted");
      } finally {
        await syncPack(rt.database.db, pool, defaultPack(), { force: true, broker: rt.engine.broker });
      }
    }, 90_000);
  });
}
