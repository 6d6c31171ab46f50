/**
 * Problem packs (DESIGN §7, fixed format): a folder with `pack.json` and a
 * dataset file. Validation errors name the problem and the field, so an
 * operator can fix a pack from the message alone.
 */
import { readFile } from "node:fs/promises";
import { isAbsolute, join, normalize, sep } from "node:path";
import { Value } from "@sinclair/typebox/value";
import { t, type Static } from "elysia";

const SLUG = "^[a-z0-9][a-z0-9_-]{0,63}$";

export const TestSchema = t.Object(
  {
    name: t.String({ pattern: "^[a-z0-9][a-z0-9_-]{0,39}$", description: "for the pack author; users see only \"hidden test N\"" }),
    setup: t.String({ minLength: 1, description: "SQL file inside the pack folder, applied (as the dataset is) to a copy of the dataset" }),
  },
  { additionalProperties: false },
);

export const ProblemSchema = t.Object(
  {
    id: t.String({ pattern: SLUG, description: "unique across all packs, e.g. clubdata-threejoin" }),
    title: t.String({ minLength: 1, maxLength: 200 }),
    difficulty: t.Union([t.Literal("easy"), t.Literal("medium"), t.Literal("hard")]),
    statement: t.String({ minLength: 1, description: "markdown" }),
    solution: t.String({ minLength: 1, description: "the reference query; its result is the expected result" }),
    ordered: t.Boolean({ description: "compare rows as a sequence (true) or a multiset (false)" }),
    tests: t.Optional(t.Array(TestSchema, {
      maxItems: 8,
      description: "hidden test datasets: each setup is applied to a copy of the pack's dataset; a submission must match on every one",
    })),
  },
  { additionalProperties: false },
);

export const PackSchema = t.Object(
  {
    id: t.String({ pattern: SLUG }),
    title: t.String({ minLength: 1, maxLength: 200 }),
    dataset: t.String({ minLength: 1, description: "file name inside the pack folder" }),
    schema: t.String({ pattern: "^[a-z_][a-z0-9_]{0,62}$", description: "the PostgreSQL schema the dataset lives in" }),
    problems: t.Array(ProblemSchema, { minItems: 1 }),
  },
  { additionalProperties: false },
);

export type Problem = Static<typeof ProblemSchema>;
export type ProblemTest = Static<typeof TestSchema>;
export type Pack = Static<typeof PackSchema>;

/** A pack and its dataset text, ready to import. */
export interface LoadedPack {
  pack: Pack;
  dataset: string;
  /** The text of every test setup file, by its `setup` path as pack.json spells it. */
  setups?: Record<string, string>;
}

export class PackError extends Error {
  constructor(message: string, readonly packId?: string, readonly problemId?: string) {
    super(message);
    this.name = "PackError";
  }
}

/** Schemas a pack may not take: they hold system objects or (public) whatever the database already has. */
const RESERVED_SCHEMAS = /^(public|information_schema|pg_.*)$/;

/** Validates parsed pack.json content; throws PackError naming the problem and field. */
export function validatePack(json: unknown): Pack {
  if (!Value.Check(PackSchema, json)) {
    const first = Value.Errors(PackSchema, json).First();
    throw new PackError(`pack.json: ${describePath(json, first?.path ?? "")}: ${first?.message ?? "invalid"}`, packIdOf(json));
  }
  const pack = json;
  if (RESERVED_SCHEMAS.test(pack.schema)) throw new PackError(`pack.json: schema "${pack.schema}" is reserved; pick a name of your own`, pack.id);
  if (pack.schema.includes("__")) throw new PackError(`pack.json: schema "${pack.schema}" may not contain "__" (reserved for hidden test copies)`, pack.id);
  const seen = new Set<string>();
  for (const p of pack.problems) {
    if (seen.has(p.id)) throw new PackError(`pack.json: problem id "${p.id}" appears twice`, pack.id, p.id);
    seen.add(p.id);
    const names = new Set<string>();
    for (const test of p.tests ?? []) {
      if (names.has(test.name)) throw new PackError(`pack.json: problem "${p.id}": test name "${test.name}" appears twice`, pack.id, p.id);
      names.add(test.name);
      insidePack(test.setup, `problem "${p.id}": test "${test.name}": setup`, pack.id);
    }
  }
  return pack;
}

/** `/problems/3/difficulty` -> `problems[3] (id "x").difficulty`, so the message points at the problem. */
function describePath(json: unknown, path: string): string {
  const parts = path.split("/").filter(Boolean);
  if (parts[0] !== "problems" || parts[1] === undefined) return parts.join(".") || "(root)";
  const index = Number(parts[1]);
  const id = (json as { problems?: { id?: unknown }[] }).problems?.[index]?.id;
  const problem = `problems[${index}]${typeof id === "string" ? ` (id "${id}")` : ""}`;
  return [problem, ...parts.slice(2)].join(".");
}

function packIdOf(json: unknown): string | undefined {
  const id = (json as { id?: unknown } | null)?.id;
  return typeof id === "string" ? id : undefined;
}

/** Reads `dir/pack.json` and its dataset file. */
export async function loadPackDir(dir: string): Promise<LoadedPack> {
  const file = join(dir, "pack.json");
  let text: string;
  try {
    text = await readFile(file, "utf8");
  } catch (err) {
    throw new PackError(`cannot read ${file}: ${(err as Error).message}`);
  }
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (err) {
    throw new PackError(`${file} is not valid JSON: ${(err as Error).message}`);
  }
  const pack = validatePack(json);
  const datasetFile = insidePack(pack.dataset, "dataset", pack.id);
  let dataset: string;
  try {
    dataset = await readFile(join(dir, datasetFile), "utf8");
  } catch (err) {
    throw new PackError(`pack ${pack.id}: cannot read dataset ${pack.dataset}: ${(err as Error).message}`, pack.id);
  }
  const setups: Record<string, string> = {};
  for (const p of pack.problems) {
    for (const test of p.tests ?? []) {
      if (test.setup in setups) continue;
      try {
        setups[test.setup] = await readFile(join(dir, insidePack(test.setup, "setup", pack.id)), "utf8");
      } catch (err) {
        throw new PackError(`pack ${pack.id}: problem ${p.id}: cannot read test setup ${test.setup}: ${(err as Error).message}`, pack.id, p.id);
      }
    }
  }
  return { pack, dataset, setups };
}

/** A path named by pack.json, refused unless it stays inside the pack folder. */
function insidePack(path: string, what: string, packId: string): string {
  const file = normalize(path);
  if (isAbsolute(file) || file.startsWith("..") || file.split(sep).includes("..")) {
    throw new PackError(`pack.json: ${what} "${path}" must be a file inside the pack folder`, packId);
  }
  return file;
}
