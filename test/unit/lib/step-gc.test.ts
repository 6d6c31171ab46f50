/** The step collector: one full collection per step of RSS growth, and none while RSS stays put. */
import { describe, expect, test } from "bun:test";
import { StepCollector } from "../../../src/lib/step-gc";

const MB = 1024 * 1024;

describe("StepCollector", () => {
  test("collects once RSS grew by a step; what a collection leaves is the new base", () => {
    let rss = 200 * MB;
    const collected: number[] = [];
    const gc = new StepCollector(32, 60_000, () => rss, () => {
      collected.push(rss / MB);
      rss -= 40 * MB; // garbage returned
    });
    try {
      rss = 231 * MB;
      gc.check();
      expect(collected).toEqual([]); // 31 MB over the base: not yet
      rss = 300 * MB;
      gc.check();
      expect(collected).toEqual([300]);
      expect(rss).toBe(260 * MB); // the new base
      rss = 280 * MB;
      gc.check();
      expect(collected).toEqual([300]); // 20 MB over the new base
    } finally {
      gc.stop();
    }
  });

  test("memory really in use does not make it collect at every check", () => {
    let rss = 100 * MB;
    let n = 0;
    const gc = new StepCollector(32, 60_000, () => rss, () => n++); // nothing is garbage
    try {
      rss = 140 * MB;
      for (let i = 0; i < 10; i++) gc.check();
      expect(n).toBe(1);
      rss = 180 * MB;
      for (let i = 0; i < 10; i++) gc.check();
      expect(n).toBe(2);
    } finally {
      gc.stop();
    }
  });

  test("with the real process RSS: 64 MB more in use is one collection, then none while it stays", async () => {
    const gc = new StepCollector(32, 20);
    try {
      const held = Buffer.alloc(64 * MB, 1); // touched pages: RSS really grows
      await Bun.sleep(200);
      expect(gc.collections).toBe(1);
      await Bun.sleep(200);
      expect(gc.collections).toBe(1);
      expect(held[held.length - 1]).toBe(1);
    } finally {
      gc.stop();
    }
  });
});
