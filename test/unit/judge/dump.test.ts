import { describe, expect, test } from "bun:test";
import { DumpSyntaxError, splitDump } from "../../../src/judge/dump";
import { sharedDataset } from "../../helpers/shared";

const CLUBDATA = sharedDataset("clubdata.sql");

const sqlOf = (text: string) => splitDump(text).map((s) => (s.kind === "sql" ? s.sql : s.kind === "copy" ? `COPY:${s.sql}` : `META:${s.text}`));

describe("splitDump", () => {
  test("splits on semicolons and records the line of each statement's first token", () => {
    const steps = splitDump("-- header\n\nCREATE TABLE a (x int);\n\n  INSERT INTO a VALUES (1);\nselect 1");
    expect(steps).toEqual([
      { kind: "sql", sql: "CREATE TABLE a (x int)", line: 3 },
      { kind: "sql", sql: "INSERT INTO a VALUES (1)", line: 5 },
      { kind: "sql", sql: "select 1", line: 6 },
    ]);
  });

  test("a semicolon inside quotes, identifiers or comments does not end the statement", () => {
    const text = `insert into t values ('a;b', 'it''s;', E'x\\';y');
select "we;ird" from t -- trailing; comment
where x = 1 /* block; /* nested; */ still */ ;
select 2;`;
    expect(sqlOf(text)).toEqual([
      "insert into t values ('a;b', 'it''s;', E'x\\';y')",
      `select "we;ird" from t -- trailing; comment\nwhere x = 1 /* block; /* nested; */ still */`,
      "select 2",
    ]);
  });

  test("standard strings do not treat a backslash as an escape", () => {
    expect(sqlOf(`select 'C:\\'; select 2;`)).toEqual([`select 'C:\\'`, "select 2"]);
  });

  test("dollar quotes, tagged or not, may contain semicolons and other dollar tags", () => {
    const text = "create function f() returns int as $body$ begin; return $$x;$$; end $body$ language plpgsql;\nselect $$a;b$$, $1;";
    expect(sqlOf(text)).toEqual([
      "create function f() returns int as $body$ begin; return $$x;$$; end $body$ language plpgsql",
      "select $$a;b$$, $1",
    ]);
  });

  test("an identifier containing $ is not the start of a dollar quote", () => {
    expect(sqlOf("select a$b$c from t; select 2;")).toEqual(["select a$b$c from t", "select 2"]);
  });

  test("COPY FROM stdin takes the following lines verbatim until \\.", () => {
    const text = [
      "COPY bookings (bookid, name) FROM stdin;",
      "1\tfirst\\tsecond",
      "2\t\\N",
      "3\tsemi;colon 'quote",
      "\\.",
      "",
      "ALTER TABLE bookings ADD PRIMARY KEY (bookid);",
    ].join("\n");
    const steps = splitDump(text);
    expect(steps[0]).toEqual({
      kind: "copy",
      sql: "COPY bookings (bookid, name) FROM stdin",
      data: "1\tfirst\\tsecond\n2\t\\N\n3\tsemi;colon 'quote\n",
      rows: 3,
      line: 1,
    });
    expect(steps[1]).toEqual({ kind: "sql", sql: "ALTER TABLE bookings ADD PRIMARY KEY (bookid)", line: 7 });
  });

  test("an empty COPY block and CRLF line endings", () => {
    const steps = splitDump("COPY t FROM stdin;\r\n\\.\r\nselect 1;\r\n");
    expect(steps[0]).toMatchObject({ kind: "copy", data: "", rows: 0 });
    expect(steps[1]).toMatchObject({ kind: "sql", sql: "select 1", line: 3 });
  });

  test("psql meta-commands at a statement start are reported, not run", () => {
    const steps = splitDump("\\restrict abc123\nSET x = 1;\n\\connect other\n");
    expect(steps).toEqual([
      { kind: "meta", text: "\\restrict abc123", line: 1 },
      { kind: "sql", sql: "SET x = 1", line: 2 },
      { kind: "meta", text: "\\connect other", line: 3 },
    ]);
  });

  test("unterminated constructs are errors naming the line they start on", () => {
    expect(() => splitDump("select 1;\nselect 'oops;\n")).toThrow(DumpSyntaxError);
    expect(() => splitDump("select 1;\nselect 'oops;\n")).toThrow(/line 2: unterminated string/);
    expect(() => splitDump("select $x$ never closed")).toThrow(/dollar-quoted/);
    expect(() => splitDump("COPY t FROM stdin;\n1\n2\n")).toThrow(/line 1: COPY data is not terminated/);
    expect(() => splitDump("/* open")).toThrow(/comment/);
  });

  test.skipIf(!CLUBDATA)("the real clubdata dump: 3 COPY blocks with every row, no statement lost", async () => {
    const text = await Bun.file(CLUBDATA!).text();
    const steps = splitDump(text);
    const copies = steps.filter((s) => s.kind === "copy");
    expect(copies.map((c) => c.sql)).toEqual([
      "COPY bookings (bookid, facid, memid, starttime, slots) FROM stdin",
      "COPY facilities (facid, name, membercost, guestcost, initialoutlay, monthlymaintenance) FROM stdin",
      "COPY members (memid, surname, firstname, address, zipcode, telephone, recommendedby, joindate) FROM stdin",
    ]);
    expect(copies.map((c) => (c.kind === "copy" ? c.rows : 0))).toEqual([4122 - 78, 4141 - 4132, 4182 - 4151]);
    const sql = steps.filter((s) => s.kind === "sql");
    expect(sql[0]).toMatchObject({ sql: "CREATE SCHEMA cd", line: 1 });
    expect(sql.at(-1)).toMatchObject({ sql: "ANALYZE", line: 4281 });
    expect(sql.filter((s) => s.kind === "sql" && s.sql.startsWith("CREATE INDEX"))).toHaveLength(7);
  });
});
