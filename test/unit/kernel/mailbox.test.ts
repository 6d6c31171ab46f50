import { describe, expect, test } from "bun:test";
import { Mailbox, backoffDelay, DEFAULT_RESTART_POLICY } from "../../../actors/kernel/index";
import { recordInWindow, resolvePolicy } from "../../../actors/kernel/restart";

describe("Mailbox", () => {
  test("keeps FIFO order and refuses past capacity under 'reject'", () => {
    const box = new Mailbox<number>({ capacity: 3, overflow: "reject" });
    expect([1, 2, 3].map((n) => box.offer(n).accepted)).toEqual([true, true, true]);
    expect(box.offer(4)).toEqual({ accepted: false });
    expect(box.size).toBe(3);
    expect([box.shift(), box.shift(), box.shift(), box.shift()]).toEqual([1, 2, 3, undefined]);
  });

  test("'drop-oldest' evicts the head, hands it back and counts it", () => {
    const box = new Mailbox<string>({ capacity: 2, overflow: "drop-oldest" });
    box.offer("a");
    box.offer("b");
    expect(box.offer("c")).toEqual({ accepted: true, evicted: "a" });
    expect(box.offer("d")).toEqual({ accepted: true, evicted: "b" });
    expect(box.evictions).toBe(2);
    expect(box.drain()).toEqual(["c", "d"]);
    expect(box.size).toBe(0);
  });

  test("remove takes one item out of the middle", () => {
    const box = new Mailbox<object>({ capacity: 5 });
    const items = [{}, {}, {}];
    for (const item of items) box.offer(item);
    box.shift();
    expect(box.remove(items[0] as object)).toBe(false); // already shifted
    expect(box.remove(items[1] as object)).toBe(true);
    expect(box.drain()).toEqual([items[2] as object]);
  });

  test("stays correct across many wrap-arounds of its internal head", () => {
    const box = new Mailbox<number>({ capacity: 10 });
    let next = 0;
    let expected = 0;
    for (let round = 0; round < 5000; round++) {
      box.offer(next++);
      box.offer(next++);
      expect(box.shift()).toBe(expected++);
      if (box.size > 5) expect(box.shift()).toBe(expected++);
    }
    while (box.size > 0) expect(box.shift()).toBe(expected++);
  });

  test("is never unbounded: capacity must be a positive integer", () => {
    expect(() => new Mailbox({ capacity: 0 })).toThrow(RangeError);
    expect(() => new Mailbox({ capacity: Infinity })).toThrow(RangeError);
    expect(() => new Mailbox({ capacity: 1.5 })).toThrow(RangeError);
    expect(new Mailbox({}).capacity).toBeGreaterThan(0);
  });
});

describe("restart arithmetic", () => {
  test("backoff doubles up to maxMs and jitter only shortens it", () => {
    const base = { ...DEFAULT_RESTART_POLICY, baseMs: 10, maxMs: 100, jitter: 0.5 };
    const none = { ...base, random: () => 0 };
    expect([1, 2, 3, 4, 5, 6].map((n) => backoffDelay(none, n))).toEqual([10, 20, 40, 80, 100, 100]);
    const most = { ...base, random: () => 0.999999 };
    expect([1, 2, 3].map((n) => backoffDelay(most, n))).toEqual([5, 10, 20]);
    for (let i = 0; i < 200; i++) {
      const delay = backoffDelay(base, 3);
      expect(delay).toBeGreaterThanOrEqual(20);
      expect(delay).toBeLessThanOrEqual(40);
    }
  });

  test("the window forgets restarts older than the period", () => {
    const times: number[] = [];
    expect(recordInWindow(times, 0, 100)).toBe(1);
    expect(recordInWindow(times, 50, 100)).toBe(2);
    expect(recordInWindow(times, 120, 100)).toBe(2); // 0 fell out
    expect(recordInWindow(times, 300, 100)).toBe(1);
  });

  test("invalid policies are refused", () => {
    expect(() => resolvePolicy({ baseMs: 0 })).toThrow(RangeError);
    expect(() => resolvePolicy({ baseMs: 50, maxMs: 10 })).toThrow(RangeError);
    expect(() => resolvePolicy({ jitter: 2 })).toThrow(RangeError);
    expect(() => resolvePolicy({ intensity: -1 })).toThrow(RangeError);
  });
});
