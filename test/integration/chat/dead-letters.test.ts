/**
 * A message PostgreSQL refuses for a reason of its own is never lost: the
 * persister keeps it in the dead-letter stream with the error (counted in
 * /metrics, a warning in /ready), and replay writes it once the cause is
 * fixed. On both engines (Redis: logical db 9, shared with the other chat
 * files that flush it first; memory + PGlite).
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { conversations } from "../../../src/db/schema";
import { call, registerUser } from "../../helpers/app";
import { postgresAvailable, redisAvailable } from "../../helpers/services";
import { buildTestRuntime, type TestRuntime } from "../../helpers/runtime";

const redisOk = (await redisAvailable()) && (await postgresAvailable());

async function until(what: string, cond: () => Promise<boolean>, ms = 10_000) {
  for (const end = Date.now() + ms; Date.now() < end; await Bun.sleep(50)) if (await cond()) return;
  throw new Error(`timed out waiting for ${what}`);
}

function deadLetterSuite(name: string, skip: boolean, build: () => Promise<TestRuntime>) {
  describe.skipIf(skip)(`dead letters (${name})`, () => {
    let rt: TestRuntime;
    beforeAll(async () => {
      rt = await build();
    }, 30_000);
    afterAll(async () => {
      await rt?.close();
    });

    test("a refused message is kept with its error, reported, and written by replay once the cause is fixed", async () => {
      const a = await registerUser(rt.app);
      // Acknowledged in Redis for a conversation PostgreSQL does not have (its row went missing): the insert is refused.
      const cid = Bun.randomUUIDv7();
      await rt.engine.chat.seedSeq(cid, 0);
      const { message } = await rt.engine.chat.append({
        id: Bun.randomUUIDv7(), conversation_id: cid, sender_id: a.user.id, receiver_id: null,
        content: "kept, not lost", message_type: "text", client_id: null, timestamp: new Date().toISOString(),
      });
      await until("the dead letter", async () => (await rt.engine.deadLetters.count()) === 1);
      expect(await rt.engine.outbox.pending()).toBe(0); // the outbox moves on: later messages are not blocked
      const [letter] = await rt.engine.deadLetters.list(10);
      expect(letter!.message).toEqual(message);
      expect(letter!.reason).toStartWith("23503"); // foreign_key_violation, with the driver's message

      const ready = await call(rt.app, "GET", "/ready");
      expect(ready.status).toBe(200);
      expect(JSON.stringify(ready.json.checks)).toContain("huddle outbox replay");
      expect((await call(rt.app, "GET", "/metrics")).text).toMatch(/^huddle_outbox_dead_letters 1$/m);

      // Still refused: replay keeps it.
      expect(await rt.services.messageWriter.replay()).toEqual({ stored: 0, kept: 1 });
      expect(await rt.engine.deadLetters.count()).toBe(1);
      // The cause is fixed (the conversation row is back): replay writes it and empties the stream.
      await rt.database.db.insert(conversations).values({ id: cid, kind: "room", name: "restored", ownerId: a.user.id });
      expect(await rt.services.messageWriter.replay()).toEqual({ stored: 1, kept: 0 });
      expect(await rt.engine.deadLetters.count()).toBe(0);
      const rows = await rt.database.db.select().from((await import("../../../src/db/schema")).messages);
      expect(rows.filter((r) => r.conversationId === cid).map((r) => [r.seq, r.content])).toEqual([[1, "kept, not lost"]]);
    }, 30_000);
  });
}

deadLetterSuite("PostgreSQL + Redis", !redisOk, () => buildTestRuntime("postgres", { redisDb: 9 }));
deadLetterSuite("PGlite + memory", false, () => buildTestRuntime("pglite"));

describe("huddle outbox replay", () => {
  test("without REDIS_URL it says why and exits 1", () => {
    const res = Bun.spawnSync(["bun", "run", "src/main.ts", "outbox", "replay"], {
      cwd: new URL("../../..", import.meta.url).pathname,
      env: { ...process.env, REDIS_URL: "", DATABASE_URL: "", NODE_ENV: "test", DATA_DIR: "/tmp/huddle-test-data", JWT_SECRET: "test-secret-test-secret-test-secret-0123" },
      stderr: "pipe",
    });
    expect(res.exitCode).toBe(1);
    expect(res.stderr.toString()).toContain("outbox replay needs REDIS_URL");
  }, 20_000);
});
