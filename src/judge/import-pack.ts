/**
 * Importing a pack: its dataset, and every hidden test dataset, loaded in one
 * sandbox transaction with every reference solution run on each (the expected
 * results), plus the ordering check of ordered problems (ordering.ts).
 */
import { PackLoadError, type RunLimits, type Sandbox } from "../sandbox/types";
import { DatasetError, prepareDataset } from "./dataset";
import { DumpSyntaxError } from "./dump";
import { buildVariants, testCheckId, type HiddenTest } from "./hidden-tests";
import { assertSolutionAllowed, EXPECTED_LIMITS, type ExpectedResult } from "./judge";
import { findTie, orderProbe, type OrderProbe } from "./ordering";
import { PackError, type LoadedPack, type Problem } from "./pack";

export interface ImportedPack {
  pack: LoadedPack["pack"];
  problems: (Problem & { expected: ExpectedResult; hiddenTests: HiddenTest<ExpectedResult>[] })[];
  /** What the dataset loader neutralised (SET, GRANT, OWNER TO ...), for the import log. */
  skipped: { line: number; what: string }[];
  copiedRows: number;
  /** For the pack author: ordered problems whose expected order is not the only right one, and the like. */
  warnings: string[];
}

const ORDER_CHECK = "#order";

/**
 * Loads a pack into the sandbox and computes every expected result, all or
 * nothing: a dataset or setup error or a failing solution throws PackError
 * naming the file and line or the problem, and the previous version stays.
 */
export async function importPack(sandbox: Pick<Sandbox, "loadPack">, loaded: LoadedPack, limits: RunLimits = EXPECTED_LIMITS): Promise<ImportedPack> {
  const { pack, dataset } = loaded;
  let prepared;
  try {
    prepared = await prepareDataset(dataset, pack.schema);
  } catch (err) {
    if (err instanceof DatasetError || err instanceof DumpSyntaxError) throw new PackError(`pack ${pack.id}: ${pack.dataset} ${err.message}`, pack.id);
    throw err;
  }
  for (const p of pack.problems) await assertSolutionAllowed(p.id, p.solution, pack.id);
  const { variants, schemaOf } = await buildVariants(loaded);
  const warnings: string[] = [];
  const probes = new Map<string, OrderProbe>();
  for (const p of pack.problems) {
    const probe = await orderProbe(p.solution);
    // Unordered problems only matter when a LIMIT picks rows by their order.
    const limitless = !probe.window && !/LIMIT/.test(probe.unchecked ?? "");
    if (!p.ordered && limitless) continue;
    if (probe.unchecked) warnings.push(`problem ${p.id}: the order of its result cannot be checked: ${probe.unchecked}`);
    else probes.set(p.id, probe);
  }
  // The ordering checks run as extra checks in the same load (a probe query is our rewrite: should it fail, the pack loads without them).
  const orderChecks = (id: string, problemId: string) => {
    const sql = probes.get(problemId)?.augmented;
    return sql ? [{ id: id + ORDER_CHECK, sql }] : [];
  };
  const load = (withOrder: boolean) => sandbox.loadPack({
    id: pack.id,
    schema: pack.schema,
    steps: prepared.steps,
    checks: pack.problems.flatMap((p) => [{ id: p.id, sql: p.solution }, ...(withOrder ? orderChecks(p.id, p.id) : [])]),
    checkLimits: limits,
    variants: variants.map((v) => ({
      ...v,
      checks: v.checks.flatMap((c) => [c, ...(withOrder ? orderChecks(c.id, c.id.split("@")[0]!) : [])]),
    })),
  });
  let results;
  try {
    try {
      results = await load(true);
    } catch (err) {
      if (!(err instanceof PackLoadError && err.where.check?.endsWith(ORDER_CHECK))) throw err;
      warnings.push(`the ordering check could not run (${err.message}); ordered problems were not checked for ties`);
      probes.clear();
      results = await load(false);
    }
  } catch (err) {
    if (err instanceof PackLoadError) throw new PackError(`pack ${pack.id}: ${err.message}`, pack.id, err.where.check?.split("@")[0]);
    throw err;
  }
  const expectedOf = (id: string): ExpectedResult => ({ columns: results[id]!.columns, rows: results[id]!.rows });
  const problems = pack.problems.map((p, n) => {
    const hiddenTests = (p.tests ?? []).map((t) => ({ name: t.name, schema: schemaOf.get(testCheckId(p.id, t.name))!, expected: expectedOf(testCheckId(p.id, t.name)) }));
    const probe = probes.get(p.id);
    if (probe) {
      const datasets = [{ id: p.id, label: "the main dataset" }, ...(p.tests ?? []).map((t) => ({ id: testCheckId(p.id, t.name), label: `test ${t.name}` }))];
      for (const d of datasets) {
        const rows = probe.augmented ? results[d.id + ORDER_CHECK]!.rows : results[d.id]!.rows;
        const extra = probe.augmented ? results[d.id + ORDER_CHECK]!.columns.length - results[d.id]!.columns.length : 0;
        const tie = findTie(rows, probe.keyColumns, extra, probe.window, p.ordered);
        if (tie) warnings.push(`problem ${p.id} (#${n + 1}): its ORDER BY leaves rows ${tie[0]} and ${tie[1]} tied on ${d.label}${probe.window ? " (before its LIMIT)" : ""}; add a tie-breaker`);
      }
    }
    return { ...p, expected: expectedOf(p.id), hiddenTests };
  });
  return { pack, problems, skipped: prepared.skipped, copiedRows: prepared.copiedRows, warnings };
}
