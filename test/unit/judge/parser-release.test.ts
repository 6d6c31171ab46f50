import { describe, expect, test } from "bun:test";
import { parseStatements, parserLoaded, parserReady, releaseParserSoon } from "../../../src/judge/pg-ast";
import { guardQuery } from "../../../src/judge/guard";

const nextTimers = () => new Promise((resolve) => setTimeout(resolve, 5));

describe("the SQL parser is dropped when not needed and loads again on use", () => {
  test("released after the turn that asked, then a submission's guard loads it again and judges as before", async () => {
    await parserReady();
    expect(parseStatements("select 1")[0]!.type).toBe("SelectStmt");
    releaseParserSoon();
    expect(parserLoaded()).toBe(true); // not within the caller's turn
    await nextTimers();
    expect(parserLoaded()).toBe(false);
    expect(() => parseStatements("select 2")).toThrow(/not loaded/);
    expect(await guardQuery("select title from books")).toMatchObject({ ok: true });
    expect(await guardQuery("delete from books")).toMatchObject({ ok: false, verdict: "forbidden" });
    expect(parserLoaded()).toBe(true);
  });

  test("a use after the request keeps it loaded (a submission judged meanwhile is not cut off)", async () => {
    await parserReady();
    releaseParserSoon();
    await parserReady();
    await nextTimers();
    expect(parserLoaded()).toBe(true);
    expect(parseStatements("select 3")).toHaveLength(1);
  });

  test("a caller that awaited parserReady parses even when a release was asked just before", async () => {
    await parserReady();
    const ready = parserReady();
    releaseParserSoon();
    await ready;
    expect(parseStatements("select 4")).toHaveLength(1);
  });
});
