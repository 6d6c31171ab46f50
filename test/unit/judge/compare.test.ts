import { describe, expect, test } from "bun:test";
import { canonicalNumber, canonicalTime, compareResults, type ResultSet } from "../../../src/judge/compare";

const result = (types: string[], rows: (string | null)[][]): ResultSet => ({
  columns: types.map((type, i) => ({ name: `c${i}`, type })),
  rows,
});

describe("value normalisation", () => {
  test.each([
    ["9", "9"], ["9.0", "9"], ["9.00", "9"], ["-0", "0"], ["-0.0", "0"], ["007", "7"],
    ["12345678901234567890", "12345678901234567890"], ["1e3", "1000"], ["2.50", "2.5"],
    ["3.3333333333333333", "3.33333333333"], ["3.33333333333333333333", "3.33333333333"],
    ["NaN", "nan"], ["Infinity", "infinity"], ["$1,234.50", "1234.5"],
  ])("number %s -> %s", (input, out) => {
    expect(canonicalNumber(input)).toBe(out);
  });

  test.each([
    ["2012-07-03 11:00:00", "2012-07-03 11:00:00"],
    ["2012-07-03 11:00:00.000", "2012-07-03 11:00:00"],
    ["2012-07-03 11:00:00.250", "2012-07-03 11:00:00.25"],
    ["2012-07-03 11:00:00+00", "2012-07-03 11:00:00"],
    ["2012-07-03 13:30:00+02:30", "2012-07-03 11:00:00"],
    ["2012-07-03 00:00:00", "2012-07-03"],
    ["2012-07-03", "2012-07-03"],
    ["infinity", "infinity"],
  ])("time %s -> %s", (input, out) => {
    expect(canonicalTime(input)).toBe(out);
  });
});

describe("compareResults", () => {
  test("numbers compare by value across types: int 9 = numeric 9.00 = float 9", () => {
    const exp = result(["numeric", "int8"], [["9.00", "10"]]);
    expect(compareResults(exp, result(["int4", "numeric"], [["9", "10.0"]]), true)).toEqual({ verdict: "accepted" });
    expect(compareResults(exp, result(["float8", "float4"], [["9", "10"]]), true)).toEqual({ verdict: "accepted" });
  });

  test("float noise is tolerated, a real difference is not", () => {
    const exp = result(["numeric"], [["0.33333333333333333333"]]);
    expect(compareResults(exp, result(["float8"], [["0.3333333333333333"]]), false).verdict).toBe("accepted");
    expect(compareResults(exp, result(["numeric"], [["0.33"]]), false).verdict).toBe("wrong_answer");
  });

  test("timestamps compare as instants; a date equals its midnight timestamp", () => {
    const exp = result(["timestamp", "date"], [["2012-07-03 11:00:00", "2012-07-03"]]);
    const act = result(["timestamptz", "timestamp"], [["2012-07-03 11:00:00+00", "2012-07-03 00:00:00"]]);
    expect(compareResults(exp, act, true).verdict).toBe("accepted");
    const off = result(["timestamp", "date"], [["2012-07-03 11:00:01", "2012-07-03"]]);
    expect(compareResults(exp, off, true).verdict).toBe("wrong_answer");
  });

  test("NULL equals only NULL: not '', not 'NULL', not 0", () => {
    const exp = result(["text", "int4"], [[null, null]]);
    expect(compareResults(exp, result(["text", "int4"], [[null, null]]), true).verdict).toBe("accepted");
    expect(compareResults(exp, result(["text", "int4"], [["", null]]), true).verdict).toBe("wrong_answer");
    expect(compareResults(exp, result(["text", "int4"], [["NULL", null]]), true).verdict).toBe("wrong_answer");
    expect(compareResults(exp, result(["text", "int4"], [[null, "0"]]), true).verdict).toBe("wrong_answer");
  });

  test("booleans, char padding and json key order", () => {
    const exp = result(["bool", "bpchar", "jsonb"], [["t", "ab  ", '{"a": 1, "b": [1, 2]}']]);
    const act = result(["bool", "text", "json"], [["true", "ab", '{"b":[1,2],"a":1}']]);
    expect(compareResults(exp, act, true).verdict).toBe("accepted");
  });

  test("text keeps its case and spaces, and a number written as text is not the number", () => {
    const exp = result(["text", "int4"], [["Tennis Court 1", "9"]]);
    expect(compareResults(exp, result(["varchar", "int4"], [["Tennis Court 1", "9"]]), true).verdict).toBe("accepted");
    expect(compareResults(exp, result(["text", "int4"], [["tennis court 1", "9"]]), true).verdict).toBe("wrong_answer");
    expect(compareResults(exp, result(["text", "text"], [["Tennis Court 1", "9"]]), true).verdict).toBe("wrong_answer");
  });

  test("column names are ignored, the column count is not", () => {
    const exp = { columns: [{ name: "surname", type: "text" }], rows: [["Smith"]] };
    expect(compareResults(exp, { columns: [{ name: "x", type: "text" }], rows: [["Smith"]] }, true).verdict).toBe("accepted");
    expect(compareResults(exp, result(["text", "text"], [["Smith", "x"]]), true)).toEqual({
      verdict: "wrong_answer",
      reason: "expected 1 column(s), got 2",
    });
  });

  test("a different row count is reported as such", () => {
    const exp = result(["int4"], [["1"], ["2"]]);
    expect(compareResults(exp, result(["int4"], [["1"]]), false)).toEqual({ verdict: "wrong_answer", reason: "expected 2 row(s), got 1" });
  });

  test("unordered: any permutation is accepted, duplicates count (multiset)", () => {
    const exp = result(["int4", "text"], [["1", "a"], ["2", "b"], ["2", "b"]]);
    expect(compareResults(exp, result(["int4", "text"], [["2", "b"], ["1", "a"], ["2", "b"]]), false).verdict).toBe("accepted");
    const wrong = compareResults(exp, result(["int4", "text"], [["1", "a"], ["1", "a"], ["2", "b"]]), false);
    expect(wrong.verdict).toBe("wrong_answer");
    if (wrong.verdict === "wrong_answer") expect(wrong.reason).toBe("row 2 (1, a) is not in the expected result; expected for example (2, b)");
  });

  test("ordered: the same rows in another order is wrong, and the reason says so", () => {
    const exp = result(["int4"], [["1"], ["2"], ["3"]]);
    expect(compareResults(exp, result(["int4"], [["1"], ["2"], ["3"]]), true).verdict).toBe("accepted");
    const r = compareResults(exp, result(["int4"], [["1"], ["3"], ["2"]]), true);
    expect(r).toEqual({ verdict: "wrong_answer", reason: "the rows are right but the order is not: row 2 should be (2), got (3)" });
  });

  test("empty results match each other", () => {
    expect(compareResults(result(["int4"], []), result(["int8"], []), true).verdict).toBe("accepted");
  });
});
