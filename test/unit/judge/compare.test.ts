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
      kind: "columns",
    });
  });

  test("a different row count is reported as such", () => {
    const exp = result(["int4"], [["1"], ["2"]]);
    expect(compareResults(exp, result(["int4"], [["1"]]), false)).toEqual({ verdict: "wrong_answer", reason: "expected 2 row(s), got 1", kind: "count" });
  });

  test("unordered: any permutation is accepted, duplicates count (multiset)", () => {
    const exp = result(["int4", "text"], [["1", "a"], ["2", "b"], ["2", "b"]]);
    expect(compareResults(exp, result(["int4", "text"], [["2", "b"], ["1", "a"], ["2", "b"]]), false).verdict).toBe("accepted");
    const wrong = compareResults(exp, result(["int4", "text"], [["1", "a"], ["1", "a"], ["2", "b"]]), false);
    expect(wrong.verdict).toBe("wrong_answer");
    if (wrong.verdict === "wrong_answer") expect(wrong.reason).toBe("row 2 of your output, (1, a), appears more often than in the expected result");
    expect(compareResults(exp, result(["int4", "text"], [["1", "a"], ["2", "b"], ["3", "c"]]), false)).toEqual({
      verdict: "wrong_answer",
      reason: "row 3 of your output, (3, c), is not in the expected result",
      kind: "rows",
    });
  });

  test("ordered: the same rows in another order is wrong, and the reason says so", () => {
    const exp = result(["int4"], [["1"], ["2"], ["3"]]);
    expect(compareResults(exp, result(["int4"], [["1"], ["2"], ["3"]]), true).verdict).toBe("accepted");
    const r = compareResults(exp, result(["int4"], [["1"], ["3"], ["2"]]), true);
    expect(r).toEqual({ verdict: "wrong_answer", reason: "the rows are right but the order is not: row 2 of your output, (3), is not the expected row 2", kind: "order" });
  });

  test("a column of another kind of value is named, with the kind expected", () => {
    const exp = result(["int4", "numeric"], [["1", "2.5"]]);
    expect(compareResults(exp, result(["int4", "text"], [["1", "2.5"]]), true)).toEqual({
      verdict: "wrong_answer",
      reason: "column 2 of your output is text (text), but the expected column 2 holds a number",
      kind: "rows",
    });
  });

  test("empty results match each other", () => {
    expect(compareResults(result(["int4"], []), result(["int8"], []), true).verdict).toBe("accepted");
  });
});

describe("wrong-answer reasons never reveal the expected result", () => {
  // Distinctive values: a reason that contains one of them (and the submission did not) leaked it.
  const SECRET = result(["text", "numeric", "timestamp"], [
    ["Zanzibar-7731", "48213.75", "2031-04-05 06:07:08"],
    ["Quixote-1942", "-0.000917", "1999-12-31 23:59:59"],
    ["Vermilion-5508", "31337", "2044-02-29 12:00:00"],
  ]);
  const [r1, r2, r3] = SECRET.rows as string[][];
  const other = (n: number) => [`Guess-${n}`, String(n), `2000-01-0${n} 00:00:00`];
  const guesses: Record<string, ResultSet> = {
    "too few rows": result(["text", "numeric", "timestamp"], [r1!]),
    "too many rows": result(["text", "numeric", "timestamp"], [r1!, r2!, r3!, other(4)]),
    "too few columns": result(["text", "numeric"], [r1!.slice(0, 2), r2!.slice(0, 2), r3!.slice(0, 2)]),
    "no right row": result(["text", "numeric", "timestamp"], [other(1), other(2), other(3)]),
    "two right rows, one wrong": result(["text", "numeric", "timestamp"], [r1!, other(2), r2!]),
    "one right row twice": result(["text", "numeric", "timestamp"], [r1!, r1!, r2!]),
    "a value off by a little": result(["text", "numeric", "timestamp"], [r1!, r2!, ["Vermilion-5508", "31338", r3![2]!]]),
    "a column of another kind": result(["text", "text", "timestamp"], [other(1), other(2), other(3)]),
    "the right rows in another order": result(["text", "numeric", "timestamp"], [r3!, r1!, r2!]),
  };

  for (const ordered of [true, false]) {
    for (const [name, guess] of Object.entries(guesses)) {
      test(`${ordered ? "ordered" : "unordered"}: ${name}`, () => {
        const cmp = compareResults(SECRET, guess, ordered);
        if (!ordered && name === "the right rows in another order") return void expect(cmp.verdict).toBe("accepted");
        expect(cmp.verdict).toBe("wrong_answer");
        const reason = cmp.verdict === "wrong_answer" ? cmp.reason : "";
        const returned = new Set(guess.rows.flat());
        for (const value of SECRET.rows.flat()) if (!returned.has(value)) expect(reason).not.toContain(value!);
      });
    }
  }

  test("the reason depends on the submission and positions only, not on the expected order or values", () => {
    const guess = result(["int4"], [["1"], ["3"], ["2"], ["4"]]);
    const reason = (rows: string[]) => compareResults(result(["int4"], rows.map((v) => [v])), guess, true);
    // Both orders first differ from the guess at row 2: one reason, which tells neither order.
    expect(reason(["1", "2", "3", "4"])).toEqual(reason(["1", "4", "2", "3"]));
    // Different values missing from the guess: the same reason again.
    const miss = (rows: string[]) => compareResults(result(["int4"], rows.map((v) => [v])), guess, false);
    expect(miss(["1", "2", "4", "777"])).toEqual(miss(["1", "2", "4", "888"]));
  });
});
