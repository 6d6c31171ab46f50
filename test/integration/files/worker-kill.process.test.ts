/**
 * SIGKILL a server while it processes an upload, start another: the lease
 * expires, the reaper puts the job back, and the file completes; nothing is
 * left in `processing` and the file message is posted exactly once.
 */
import { afterAll, describe, expect, test } from "bun:test";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import Redis from "ioredis";
import postgres from "postgres";
import { Jimp } from "jimp";
import { createTestDatabase, postgresAvailable, redisAvailable, redisDbUrl } from "../../helpers/services";
import { json, registerOver, spawnServer, type ServerProcess } from "../../helpers/process";

const ok = (await redisAvailable()) && (await postgresAvailable());

describe.skipIf(!ok)("file processing survives a killed worker process", () => {
  const cleanup: (() => Promise<unknown>)[] = [];
  afterAll(async () => {
    for (const c of cleanup.reverse()) await c().catch(() => {});
  });

  test("the file killed mid-processing completes after a restart", async () => {
    const db = await createTestDatabase("fk");
    cleanup.push(db.drop);
    const redisUrl = redisDbUrl(11);
    const r = new Redis(redisUrl);
    await r.flushdb();
    cleanup.push(async () => r.disconnect());
    const dataDir = mkdtempSync(join(tmpdir(), "huddle-fk-"));
    cleanup.push(async () => rmSync(dataDir, { recursive: true, force: true }));
    const env = { DATABASE_URL: db.url, REDIS_URL: redisUrl, DATA_DIR: dataDir, WORKER_CONCURRENCY: "0", FILE_WORKER_CONCURRENCY: "1", RATE_LIMIT_SCALE: "100" };
    let server: ServerProcess = await spawnServer(env);
    cleanup.push(() => server.kill());
    const sql = postgres(db.url, { max: 1, onnotice: () => {} });
    cleanup.push(() => sql.end({ timeout: 1 }));

    const [alice, bob] = [await registerOver(server.base, "ka"), await registerOver(server.base, "kb")];
    const hi = await json(server.base, "POST", "/chat/send", { to: bob.user.id, content: "big picture coming" }, alice.access_token);
    const conversation = hi.json.message.conversation_id as string;
    // 36 megapixels of flat colour: a small upload that takes the worker seconds to decode and encode again.
    const big = await new Jimp({ width: 6000, height: 6000, color: 0x3366aaff }).getBuffer("image/png", { deflateLevel: 9 });
    const form = new FormData();
    form.set("conversation_id", conversation);
    form.set("file", new File([new Uint8Array(big)], "huge.png"));
    const up = await fetch(`${server.base}/files/upload`, { method: "POST", headers: { authorization: `Bearer ${alice.access_token}` }, body: form });
    expect(up.status).toBe(202);
    const { file_id } = (await up.json()) as { file_id: string };

    let seen = "";
    for (let i = 0; i < 500 && seen !== "processing"; i++) {
      [{ status: seen }] = await sql`select status from files where id = ${file_id}`;
      if (seen !== "processing") await Bun.sleep(20);
    }
    expect(seen).toBe("processing");
    await server.kill("SIGKILL");
    server = await spawnServer(env);

    let row: { status: string; error: string | null; thumbnail_type: string | null } | undefined;
    for (let i = 0; i < 600; i++) {
      [row] = await sql`select status, error, thumbnail_type from files where id = ${file_id}`;
      if (row?.status === "completed" || row?.status === "failed") break;
      await Bun.sleep(100);
    }
    expect(row).toMatchObject({ status: "completed", error: null, thumbnail_type: "image/png" });
    const status = await json(server.base, "GET", `/files/${file_id}/status`, undefined, bob.access_token);
    expect(status.json).toMatchObject({ status: "completed", width: 6000, height: 6000, has_thumbnail: true });
    const history = await json(server.base, "GET", `/chat/history?conversation_id=${conversation}`, undefined, bob.access_token);
    expect(history.json.messages.filter((m: { message_type: string }) => m.message_type === "file")).toHaveLength(1);
    expect(await r.zcard("files:leases")).toBe(0);
    expect(await r.llen("files:queue")).toBe(0);
  }, 120_000);
});
