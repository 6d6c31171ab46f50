import { Elysia, t } from "elysia";
import { authPlugin } from "../../plugins/auth";
import type { TokenService } from "../auth/tokens";
import { ProblemsModel } from "./model";
import type { ProblemRuns } from "./runs";
import type { ProblemsService } from "./service";

export const problemsModule = (problems: ProblemsService, runs: ProblemRuns, tokens: TokenService) =>
  new Elysia({ prefix: "/problems", tags: ["problems"] })
    .use(authPlugin(tokens))
    // "" rather than "/": the documented path is the prefix itself, as DESIGN names it (a trailing slash is still served).
    .get("", ({ userId }) => problems.list(userId), { auth: true, response: { 200: ProblemsModel.list }, detail: { summary: "The catalog, with my solved marks" } })
    .get("/submissions", ({ userId, query }) => problems.submissions(userId, query.problem_id, query.limit ?? 50), {
      auth: true, query: ProblemsModel.submissionsQuery,
      response: { 200: t.Object({ submissions: t.Array(t.Composite([ProblemsModel.result, t.Object({ sql_query: t.String() })])) }) },
      detail: { summary: "My submissions, newest first" },
    })
    .get("/result/:job_id", ({ userId, params }) => problems.result(userId, params.job_id), {
      auth: true, params: ProblemsModel.jobParams, response: { 200: ProblemsModel.result },
      detail: { summary: "A submission's status and verdict (Redis for 5 minutes, then PostgreSQL)" },
    })
    .post("/submit", async ({ userId, body, set }) => {
      set.status = 202;
      return problems.submit(userId, body.problem_id, body.sql_query);
    }, { auth: true, body: ProblemsModel.submit, response: { 202: ProblemsModel.submitted }, detail: { summary: "Queue a SQL solution for judging" } })
    .post("/run", ({ userId, body }) => runs.run(userId, body.problem_id, body.sql_query), {
      auth: true, body: ProblemsModel.submit, response: { 200: ProblemsModel.runResult },
      detail: {
        summary: "Run a query on the problem's main dataset: columns and up to 100 rows, or the error with its position",
        description: "Same guard and limits as judging; no verdict, nothing stored. Rate-limited per user, one run at a time (429); 503 when the SQL runners are busy or this instance has none.",
      },
    })
    .get("/:id", ({ userId, params }) => problems.get(userId, params.id), {
      auth: true, params: ProblemsModel.params, response: { 200: ProblemsModel.detail },
      detail: { summary: "Statement, schema tables with columns, sample rows" },
    });
