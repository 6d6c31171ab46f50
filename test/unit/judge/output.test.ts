/** Issue item 1: results are bounded in bytes, and what is kept for display is cut per cell. */
import { describe, expect, test } from "bun:test";
import { DISPLAY_CELL_CHARS, judge } from "../../../src/judge/judge";
import { cappedOutcome, OUTPUT_BYTE_LIMIT } from "../../../src/sandbox/session";
import type { Cell, RunLimits, RunOutcome } from "../../../src/sandbox/types";

const cols = [{ name: "t", type: "text" }];
const rows = (n: number, size: number): Cell[][] => Array.from({ length: n }, () => ["é".repeat(size / 2)]);

describe("cappedOutcome counts bytes", () => {
  test("past maxBytes (UTF-8) is output_limit_exceeded naming the budget", () => {
    const o = cappedOutcome(cols, rows(11, 1000), { timeoutMs: 1, maxRows: 100, maxBytes: 10_000 }, 0);
    expect(o).toMatchObject({ ok: false, verdict: "output_limit_exceeded", error: "the query returned more than 10000 bytes" });
    expect(cappedOutcome(cols, rows(10, 1000), { timeoutMs: 1, maxRows: 100, maxBytes: 10_000 }, 0)).toMatchObject({ ok: true, truncated: false });
  });

  test("with truncate, the rows that fit come back", () => {
    const o = cappedOutcome(cols, rows(20, 1000), { timeoutMs: 1, maxRows: 100, maxBytes: 5_500, truncate: true }, 0);
    expect(o).toMatchObject({ ok: true, truncated: true });
    if (o.ok) expect(o.rows.length).toBe(5);
  });

  test("a fetch that stopped early past the budget is over it even if the rows it kept fit", () => {
    expect(cappedOutcome(cols, rows(1, 10), { timeoutMs: 1, maxRows: 100 }, 0, true)).toMatchObject({ ok: false, verdict: "output_limit_exceeded" });
  });

  test("the default budget is a few MB", () => {
    expect(OUTPUT_BYTE_LIMIT).toBe(4 * 1024 * 1024);
    expect(cappedOutcome(cols, [["x".repeat(OUTPUT_BYTE_LIMIT + 1)]], { timeoutMs: 1, maxRows: 100 }, 0)).toMatchObject({ ok: false, verdict: "output_limit_exceeded" });
  });
});

describe("judge keeps display cells short", () => {
  test("a long cell is cut with a marker giving its full length; short cells and NULL stay", async () => {
    const long = "y".repeat(DISPLAY_CELL_CHARS + 500);
    let seen: RunLimits | undefined;
    const sandbox = { run: async (_s: string, _q: string, limits: RunLimits): Promise<RunOutcome> => {
      seen = limits;
      return { ok: true, columns: [...cols, ...cols], rows: [[long, null], ["short", "z"]], truncated: false, duration_ms: 1 };
    } };
    const r = await judge(sandbox, { schema: "s", ordered: false, expected: { columns: cols, rows: [] } }, "select 1", { timeoutMs: 100, maxRows: 10, maxBytes: 12_345 });
    expect(seen?.maxBytes).toBe(12_345);
    expect(r.rows[0]![0]).toBe(`${"y".repeat(DISPLAY_CELL_CHARS)}… [truncated: ${DISPLAY_CELL_CHARS + 500} characters]`);
    expect(r.rows[0]![1]).toBeNull();
    expect(r.rows[1]).toEqual(["short", "z"]);
  });

  test("a correct answer is never refused for size: the budget grows to twice the expected text", async () => {
    let seen: RunLimits | undefined;
    const sandbox = { run: async (_s: string, _q: string, limits: RunLimits): Promise<RunOutcome> => {
      seen = limits;
      return { ok: true, columns: cols, rows: [], truncated: false, duration_ms: 1 };
    } };
    const expected = { columns: cols, rows: [["x".repeat(10_000)]] };
    await judge(sandbox, { schema: "s", ordered: false, expected }, "select 1", { timeoutMs: 100, maxRows: 10, maxBytes: 1000 });
    expect(seen?.maxBytes).toBe(20_000);
    await judge(sandbox, { schema: "s", ordered: false, expected: { columns: cols, rows: [] } }, "select 1", { timeoutMs: 100, maxRows: 10 });
    expect(seen?.maxBytes).toBe(OUTPUT_BYTE_LIMIT);
  });
});
