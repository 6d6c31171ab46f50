import { afterAll, describe, expect, test } from "bun:test";
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { defaultPack } from "../../../src/judge/default-pack";
import { loadPackDir, PackError, validatePack } from "../../../src/judge/pack";

const problem = (over: Record<string, unknown> = {}) => ({
  id: "p-one", title: "One", difficulty: "easy", statement: "Do it.", solution: "select 1", ordered: false, ...over,
});
const pack = (over: Record<string, unknown> = {}) => ({
  id: "demo", title: "Demo", dataset: "dataset.sql", schema: "demo", problems: [problem()], ...over,
});

const dirs: string[] = [];
async function packDir(files: Record<string, string>): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), "huddle-pack-"));
  dirs.push(dir);
  for (const [name, text] of Object.entries(files)) await writeFile(join(dir, name), text);
  return dir;
}
afterAll(async () => {
  for (const d of dirs) await rm(d, { recursive: true, force: true });
});

describe("validatePack", () => {
  test("accepts the fixed pack.json shape", () => {
    expect(validatePack(pack()).problems[0]!.id).toBe("p-one");
  });

  test("an error names the problem (index and id) and the field", () => {
    const bad = pack({ problems: [problem(), problem({ id: "p-two", difficulty: "extreme" })] });
    expect(() => validatePack(bad)).toThrow(PackError);
    expect(() => validatePack(bad)).toThrow(/problems\[1\] \(id "p-two"\)\.difficulty/);
  });

  test("a missing field, an unknown field, an empty problem list", () => {
    const { solution: _s, ...noSolution } = problem();
    expect(() => validatePack(pack({ problems: [noSolution] }))).toThrow(/problems\[0\] \(id "p-one"\)\.solution/);
    expect(() => validatePack(pack({ problems: [problem({ hint: "x" })] }))).toThrow(/problems\[0\]/);
    expect(() => validatePack(pack({ problems: [] }))).toThrow(/problems/);
    expect(() => validatePack(pack({ schema: "Bad-Name" }))).toThrow(/schema/);
  });

  test("duplicate problem ids and reserved schemas are refused", () => {
    expect(() => validatePack(pack({ problems: [problem(), problem()] }))).toThrow(/"p-one" appears twice/);
    expect(() => validatePack(pack({ schema: "public" }))).toThrow(/reserved/);
    expect(() => validatePack(pack({ schema: "pg_temp" }))).toThrow(/reserved/);
  });
});

describe("loadPackDir", () => {
  test("hidden tests: names unique per problem, setup files inside the folder, no \"__\" in the schema", () => {
    const tests = [{ name: "ties", setup: "tests/ties.sql" }];
    expect(validatePack(pack({ problems: [problem({ tests })] })).problems[0]!.tests).toEqual(tests);
    expect(() => validatePack(pack({ problems: [problem({ tests: [...tests, ...tests] })] }))).toThrow(/problem "p-one": test name "ties" appears twice/);
    expect(() => validatePack(pack({ problems: [problem({ tests: [{ name: "x", setup: "../x.sql" }] })] }))).toThrow(/test "x": setup "..\/x.sql" must be a file inside the pack folder/);
    expect(() => validatePack(pack({ problems: [problem({ tests: [{ name: "Bad Name", setup: "x.sql" }] })] }))).toThrow(/tests\.0\.name|tests/);
    expect(() => validatePack(pack({ schema: "my__shop" }))).toThrow(/may not contain "__"/);
  });

  test("reads every setup file once; a missing one names the problem and the file", async () => {
    const tests = [{ name: "edge", setup: "edge.sql" }];
    const json = JSON.stringify(pack({ problems: [problem({ tests }), problem({ id: "p-two", tests })] }));
    const loaded = await loadPackDir(await packDir({ "pack.json": json, "dataset.sql": "create table t (a int);", "edge.sql": "insert into t values (1);" }));
    expect(loaded.setups).toEqual({ "edge.sql": "insert into t values (1);" });
    const missing = loadPackDir(await packDir({ "pack.json": json, "dataset.sql": "create table t (a int);" }));
    await expect(missing).rejects.toThrow(/problem p-one: cannot read test setup edge\.sql/);
  });

  test("reads pack.json and its dataset", async () => {
    const dir = await packDir({ "pack.json": JSON.stringify(pack()), "dataset.sql": "create table t (a int);" });
    const loaded = await loadPackDir(dir);
    expect(loaded.pack.id).toBe("demo");
    expect(loaded.dataset).toBe("create table t (a int);");
  });

  test("bad JSON, a missing dataset and a dataset outside the folder are clear errors", async () => {
    await expect(loadPackDir(await packDir({ "pack.json": "{ nope" }))).rejects.toThrow(/not valid JSON/);
    await expect(loadPackDir(await packDir({ "pack.json": JSON.stringify(pack()) }))).rejects.toThrow(/pack demo: cannot read dataset dataset\.sql/);
    await expect(loadPackDir(await packDir({ "pack.json": JSON.stringify(pack({ dataset: "../../etc/passwd" })) }))).rejects.toThrow(/inside the pack folder/);
    await expect(loadPackDir(join(tmpdir(), "no-such-pack-dir"))).rejects.toThrow(/cannot read .*pack\.json/);
  });
});

describe("default pack", () => {
  test("is valid, embedded, and has at least 15 problems from easy to hard", () => {
    const { pack: p, dataset } = defaultPack();
    expect(p.problems.length).toBeGreaterThanOrEqual(15);
    const levels = new Set(p.problems.map((x) => x.difficulty));
    expect([...levels].sort()).toEqual(["easy", "hard", "medium"]);
    expect(dataset).toContain("CREATE TABLE books");
  });
});
