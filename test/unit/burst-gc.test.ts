/** One collection after a burst of socket set-ups, once they go quiet; none after a trickle. */
import { expect, test } from "bun:test";
import { BurstCollector } from "../../src/modules/chat/burst-gc";

test("a burst followed by a quiet spell collects once; a trickle below the burst size does not", async () => {
  let collections = 0;
  const gc = new BurstCollector(5, 100, () => void collections++);
  for (let i = 0; i < 3; i++) gc.note();
  await Bun.sleep(300);
  expect(collections).toBe(0);
  for (let i = 0; i < 6; i++) gc.note();
  expect(collections).toBe(0); // still arriving: no collection mid-burst
  for (let i = 0; i < 100 && collections === 0; i++) await Bun.sleep(50);
  expect(collections).toBe(1);
  await Bun.sleep(300);
  expect(collections).toBe(1);
  gc.note();
  gc.stop();
});
