/**
 * Hidden test datasets (pack.json `tests`): each distinct setup file becomes
 * one variant of the pack's data, a schema of its own (`<schema>__t<n>`)
 * loaded at import with the same dataset plus the setup. Problems sharing a
 * setup file share its variant.
 *
 * A submission written against the pack's schema by name (`cd.members`, as
 * pg_dump-based packs invite) is pointed at the variant by rewriting those
 * qualifiers at the parser's own locations; names of variant schemas are
 * refused in submissions, so hidden rows cannot be read directly.
 */
import { HIDDEN_TEST_SCHEMA, type PackVariant } from "../sandbox/types";
import { DatasetError, prepareDataset } from "./dataset";
import { DumpSyntaxError } from "./dump";
import { PackError, type LoadedPack } from "./pack";
import { nameParts, parserReady, parseStatements, walk, type AstNode } from "./pg-ast";

/** What the judge keeps per hidden test: where it runs and what it must return. */
export interface HiddenTest<Expected> {
  name: string;
  schema: string;
  expected: Expected;
}

/** The check id of a problem's solution on a hidden test (unique across a pack load). */
export const testCheckId = (problemId: string, test: string) => `${problemId}@${test}`;

const MAX_IDENT = 63;

/** Variant schema per setup path, in order of first use; throws PackError for a missing or invalid setup file. */
export async function buildVariants(loaded: LoadedPack): Promise<{ variants: PackVariant[]; schemaOf: Map<string, string> }> {
  const { pack } = loaded;
  const schemaOf = new Map<string, string>();
  const variants: PackVariant[] = [];
  for (const p of pack.problems) {
    for (const test of p.tests ?? []) {
      let variant = variants.find((v) => v.label === `test setup ${test.setup}`);
      if (!variant) {
        const schema = `${pack.schema}__t${variants.length + 1}`;
        if (schema.length > MAX_IDENT) throw new PackError(`pack.json: schema "${pack.schema}" is too long for hidden test copies (at most ${MAX_IDENT - 6} characters)`, pack.id);
        const text = loaded.setups?.[test.setup];
        if (text === undefined) throw new PackError(`pack ${pack.id}: problem ${p.id}: test setup ${test.setup} was not loaded`, pack.id, p.id);
        let setup;
        try {
          setup = (await prepareDataset(text, pack.schema)).steps;
        } catch (err) {
          if (err instanceof DatasetError || err instanceof DumpSyntaxError) throw new PackError(`pack ${pack.id}: problem ${p.id}: test setup ${test.setup} ${err.message.replace(/^dataset /, "")}`, pack.id, p.id);
          throw err;
        }
        variant = { schema, label: `test setup ${test.setup}`, setup, checks: [] };
        variants.push(variant);
      }
      schemaOf.set(testCheckId(p.id, test.name), variant.schema);
      variant.checks.push({ id: testCheckId(p.id, test.name), sql: p.solution });
    }
  }
  return { variants, schemaOf };
}

/** The first variant schema a query names, if any: hidden rows are only reached through the judge. */
export async function namedVariantSchema(sql: string): Promise<string | undefined> {
  await parserReady();
  let found: string | undefined;
  walk(parseStatements(sql), (key, node) => {
    if (found) return;
    for (const name of schemaNames(key, node)) if (HIDDEN_TEST_SCHEMA.test(name.toLowerCase())) found = name;
  });
  return found;
}

/** Schema names a node may carry: a table's, a qualified column's (`s.t.c`) or a type's. */
function schemaNames(key: string, node: AstNode): string[] {
  if (key === "RangeVar" && typeof node.schemaname === "string") return [node.schemaname];
  if (key === "ColumnRef") {
    const parts = nameParts(node.fields);
    return parts.length >= 3 ? [parts[0]!] : [];
  }
  if (key === "typeName" || key === "TypeName") {
    const parts = nameParts(node.names);
    return parts.length >= 2 ? [parts[0]!] : [];
  }
  return [];
}

/**
 * The query with every qualifier naming schema `from` replaced by `to` (both plain identifiers).
 * Works on the parser's byte locations; null when a location does not hold the expected name
 * (the caller then runs the query as written).
 */
export async function retargetSchema(sql: string, from: string, to: string): Promise<string | null> {
  await parserReady();
  const locations = new Set<number>();
  walk(parseStatements(sql), (key, node) => {
    const names = schemaNames(key, node);
    if (names[0] === from && typeof node.location === "number" && node.location >= 0) locations.add(node.location);
  });
  if (locations.size === 0) return sql;
  let bytes = Buffer.from(sql, "utf8");
  for (const at of [...locations].sort((a, b) => b - a)) {
    const length = identifierAt(bytes, at, from);
    if (length === null) return null;
    bytes = Buffer.concat([bytes.subarray(0, at), Buffer.from(`"${to}"`), bytes.subarray(at + length)]);
  }
  return bytes.toString("utf8");
}

/** The byte length of the identifier at `at` if it spells `name` (quoted exactly, or unquoted in any case). */
function identifierAt(bytes: Buffer, at: number, name: string): number | null {
  if (bytes[at] === 0x22) {
    let end = at + 1;
    for (;;) {
      const next = bytes.indexOf(0x22, end);
      if (next < 0) return null;
      if (bytes[next + 1] === 0x22) { end = next + 2; continue; }
      end = next + 1;
      break;
    }
    return bytes.subarray(at + 1, end - 1).toString("utf8").replaceAll('""', '"') === name ? end - at : null;
  }
  let end = at;
  while (end < bytes.length && (/[A-Za-z0-9_$]/.test(String.fromCharCode(bytes[end]!)) || bytes[end]! >= 0x80)) end++;
  return bytes.subarray(at, end).toString("utf8").toLowerCase() === name ? end - at : null;
}
