import { t } from "elysia";

export const MAX_SQL_CHARS = 10_000;

const Column = t.Object({ name: t.String(), type: t.String() });

export const ProblemsModel = {
  params: t.Object({ id: t.String({ minLength: 1, maxLength: 64, pattern: "^[a-z0-9][a-z0-9_-]*$" }) }),
  jobParams: t.Object({ job_id: t.String({ format: "uuid" }) }),
  submit: t.Object({
    problem_id: t.String({ minLength: 1, maxLength: 64 }),
    sql_query: t.String({ maxLength: MAX_SQL_CHARS * 4, description: `1..${MAX_SQL_CHARS} characters` }),
  }, { additionalProperties: false }),
  submitted: t.Object({ job_id: t.String(), status: t.Literal("queued") }),
  summary: t.Object({ id: t.String(), title: t.String(), difficulty: t.String(), pack: t.String(), solved: t.Boolean() }),
  list: t.Object({ problems: t.Array(t.Object({ id: t.String(), title: t.String(), difficulty: t.String(), pack: t.String(), solved: t.Boolean() })) }),
  detail: t.Object({
    id: t.String(), title: t.String(), difficulty: t.String(), pack: t.String(), schema: t.String(), statement: t.String(),
    ordered: t.Boolean(), solved: t.Boolean(),
    hidden_tests: t.Integer({ description: "how many hidden test datasets a submission is also judged on (their rows are never shown)" }),
    tables: t.Array(t.Object({ name: t.String(), columns: t.Array(Column), sample: t.Object({ columns: t.Array(t.String()), rows: t.Array(t.Array(t.Union([t.String(), t.Null()]))) }) })),
  }),
  result: t.Object({
    job_id: t.String(), problem_id: t.String(),
    status: t.Union([t.Literal("queued"), t.Literal("processing"), t.Literal("completed"), t.Literal("failed")]),
    verdict: t.Union([t.String(), t.Null()]), rows_returned: t.Union([t.Integer(), t.Null()]),
    columns: t.Array(Column), rows: t.Array(t.Array(t.Union([t.String(), t.Null()]))),
    duration_ms: t.Union([t.Number(), t.Null()]), error: t.Union([t.String(), t.Null()]),
    sqlstate: t.Union([t.String(), t.Null()]),
    position: t.Union([t.Integer(), t.Null()], { description: "1-based character position of the error in sql_query (the parser's or PostgreSQL's)" }),
    hint: t.Optional(t.Union([t.String(), t.Null()], { description: "PostgreSQL's hint for the error, if any" })),
    created_at: t.String(), finished_at: t.Union([t.String(), t.Null()]),
  }),
  runResult: t.Object({
    columns: t.Array(Column),
    rows: t.Array(t.Array(t.Union([t.String(), t.Null()])), { description: "at most 100 rows" }),
    rows_returned: t.Union([t.Integer(), t.Null()], { description: "rows shown; null when the query failed" }),
    truncated: t.Boolean({ description: "the query returned more rows (or text) than shown" }),
    duration_ms: t.Number(),
    error: t.Union([t.Null(), t.Object({
      verdict: t.String({ description: "sql_error, forbidden, time_limit_exceeded, ..." }),
      message: t.String(),
      sqlstate: t.Union([t.String(), t.Null()]),
      position: t.Union([t.Integer(), t.Null()], { description: "1-based character position in sql_query" }),
      hint: t.Union([t.String(), t.Null()]),
    })]),
  }),
  submissionsQuery: t.Object({ problem_id: t.Optional(t.String({ maxLength: 64 })), limit: t.Optional(t.Integer({ minimum: 1, maximum: 100, default: 50 })) }),
};
