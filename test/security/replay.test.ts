/**
 * The promises of replay.ts: the default run sends the same cases every time,
 * and the seed and path a failure prints bring back exactly the failing case.
 */
import { describe, expect, test } from "bun:test";
import fc from "fast-check";
import { FIXED_SEEDS, fuzz, plan, REPLAYING, replayCommand } from "./replay";

const arb = fc.record({ s: fc.string({ maxLength: 20 }), n: fc.integer() });
type Case = { s: string; n: number };

describe("replayable fuzzing", () => {
  test("default: the runs are split between the fixed seeds; a chosen seed gets them all; a path is one case", () => {
    expect(plan(60, {})).toEqual(FIXED_SEEDS.map((seed) => ({ seed, numRuns: 20 })));
    expect(plan(1, {}).every((p) => p.numRuns === 1)).toBe(true);
    expect(plan(60, { seed: 971826535 })).toEqual([{ seed: 971826535, numRuns: 60 }]);
    expect(plan(60, { seed: 971826535, path: "57" })).toEqual([{ seed: 971826535, numRuns: 1, path: "57" }]);
  });

  // Under FUZZ_PATH every fuzz() call runs one case: these two only mean something without it.
  test.skipIf(REPLAYING)("two runs of one property see the same cases, in the same order", async () => {
    const seen: Case[][] = [[], []];
    for (const run of seen) await fuzz(fc.asyncProperty(arb, async (c) => void run.push(c)), { name: "same cases", file: "x" }, 30);
    expect(seen[0]!.length).toBeGreaterThanOrEqual(30);
    expect(seen[1]).toEqual(seen[0]!);
  });

  test.skipIf(REPLAYING)("the seed and path of a failure replay the failing case (this test's FUZZ FAILURE line is expected)", async () => {
    let failing: Case | undefined;
    const err = await fuzz(fc.asyncProperty(arb, async (c) => {
      if (c.n % 7 === 3) {
        failing = c;
        throw new Error("planted failure");
      }
    }), { name: "self-test, expected to fail", file: "x" }, 300).then(() => null, (e: Error) => e);
    expect(err?.message).toContain("planted failure");
    const [, seed, path] = /seed (-?\d+), path (\d+)/.exec(err!.message) ?? [];
    expect(err!.message).toContain(replayCommand(Number(seed), path!, "self-test, expected to fail", "x"));

    const replayed: Case[] = [];
    for (const run of plan(300, { seed: Number(seed), path })) await fc.assert(fc.asyncProperty(arb, async (c) => void replayed.push(c)), run);
    expect(replayed).toEqual([failing!]);
  });
});
