/** Group commit: callers in flight together share one write; results and errors reach the right callers. */
import { describe, expect, test } from "bun:test";
import { GroupCommit } from "../../../src/lib/group-commit";

/** A write that records its batches and answers after `ms`, doubling each item. */
function recorder(ms = 5) {
  const batches: number[][] = [];
  const gc = new GroupCommit<number, number>(async (items) => {
    batches.push(items);
    await Bun.sleep(ms);
    return items.map((i) => i * 2);
  }, 4);
  return { gc, batches };
}

describe("GroupCommit", () => {
  test("a lone caller is written at once, in a batch of its own", async () => {
    const { gc, batches } = recorder();
    expect(await gc.submit(21)).toBe(42);
    expect(batches).toEqual([[21]]);
  });

  test("callers arriving during a write share the next one, in arrival order, capped at maxBatch", async () => {
    const { gc, batches } = recorder();
    const results = await Promise.all([1, 2, 3, 4, 5, 6, 7].map((i) => gc.submit(i)));
    expect(results).toEqual([2, 4, 6, 8, 10, 12, 14]);
    // The first goes alone (nothing was in flight); the six that queued behind it go as 4 + 2.
    expect(batches).toEqual([[1], [2, 3, 4, 5], [6, 7]]);
  });

  test("a failed write rejects the callers of its batch only; earlier and later batches are written", async () => {
    const batches: string[][] = [];
    const gc = new GroupCommit<string, string>(async (items) => {
      batches.push(items);
      await Bun.sleep(2);
      if (items.includes("bad")) throw new Error("constraint violated");
      return items.map((s) => s.toUpperCase());
    });
    const first = gc.submit("a");
    const sharing = Promise.allSettled([gc.submit("bad"), gc.submit("b")]);
    expect(await first).toBe("A");
    expect((await sharing).map((r) => (r.status === "rejected" ? (r.reason as Error).message : r.value))).toEqual(["constraint violated", "constraint violated"]);
    expect(await gc.submit("c")).toBe("C");
    expect(batches).toEqual([["a"], ["bad", "b"], ["c"]]);
  });

  test("a write answering the wrong number of results fails its callers instead of mismatching them", async () => {
    const gc = new GroupCommit<number, number>(async (items) => items.slice(1));
    await expect(gc.submit(1)).rejects.toThrow("0 results for 1 items");
  });
});
