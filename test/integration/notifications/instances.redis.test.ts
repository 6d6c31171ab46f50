/**
 * Notifications across two instances over one PostgreSQL database and Redis
 * db 9 (shared with other files that flush it first; files run one after another). Only instance a runs a notification worker; the recipient's socket
 * is on instance b. The worker must see the presence b recorded (so it
 * stores nothing) and its `notification` frame must reach b's socket
 * through the user channel; once that socket is gone, the user is offline
 * everywhere and the next mention is stored.
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import Redis from "ioredis";
import { startRuntime, type Runtime } from "../../../src/root";
import { createEngine } from "../../../src/engine";
import { openDatabase } from "../../../src/db/client";
import { call, registerUser, testConfig } from "../../helpers/app";
import { generousBuckets, TestSocket } from "../../helpers/runtime";
import { createTestDatabase, postgresAvailable, redisAvailable, redisDbUrl } from "../../helpers/services";
import { eventually } from "./notifications.suite";

const ok = (await redisAvailable()) && (await postgresAvailable());
const REDIS = redisDbUrl(9);
type Instance = Runtime & { wsBase: string };

describe.skipIf(!ok)("notifications across instances (PostgreSQL + Redis db 9)", () => {
  let dropDb: () => Promise<void>;
  const instances: Instance[] = [];

  beforeAll(async () => {
    const r = new Redis(REDIS);
    await r.flushdb();
    r.disconnect();
    const { url, drop } = await createTestDatabase("notify");
    dropDb = drop;
    for (const [name, workers] of [["a", "1"], ["b", "0"]] as const) {
      const config = testConfig({ REDIS_URL: REDIS, DATABASE_URL: url, INSTANCE_ID: `notify-${name}-${process.pid}`, FILE_WORKER_CONCURRENCY: "0", NOTIFY_WORKER_CONCURRENCY: workers });
      const database = await openDatabase({ databaseUrl: url, dataDir: "/tmp", poolSize: 5 });
      const rt = await startRuntime(config, { database, engine: await createEngine({ redisUrl: REDIS }), buckets: generousBuckets() });
      rt.app.listen({ port: 0, hostname: "127.0.0.1" });
      instances.push({ ...rt, wsBase: `ws://127.0.0.1:${rt.app.server!.port}` });
    }
  }, 60_000);
  afterAll(async () => {
    for (const rt of instances) await rt.stop();
    await dropDb?.();
  });

  test("online on the other instance: a frame there and no row; offline everywhere: a row", async () => {
    const [a, b] = instances as [Instance, Instance];
    const alice = await registerUser(a.app, "ia");
    const carol = await registerUser(a.app, "ic");
    const room = (await call(a.app, "POST", "/rooms", { token: alice.access_token, body: { name: "two", members: [carol.user.id] } })).json.id;
    const say = async (content: string) => (await call(a.app, "POST", "/chat/send", { token: alice.access_token, body: { conversation_id: room, content } })).json.message;
    const listed = async () => (await call(b.app, "GET", "/notifications", { token: carol.access_token })).json.notifications as { message_id: string }[];

    const sock = await TestSocket.connect(`${b.wsBase}/chat/subscribe`, ["bearer", carol.access_token]);
    await sock.next((f) => f.type === "ready");
    const online = await say(`@${carol.username} are you there?`);
    const frame = await sock.next((f) => f.type === "notification" && f.notification.message_id === online.id, 10_000);
    expect(frame.notification).toMatchObject({ kind: "mention", conversation_id: room, sender: { id: alice.user.id, username: alice.username } });
    sock.close();
    await sock.waitClose();

    // b marks carol offline when her last socket there closes (a sees it through Redis); a's worker then stores the mention.
    await eventually("carol offline", async () => (await call(a.app, "GET", `/users/${carol.user.id}`, { token: alice.access_token })).json.online === false);
    const offline = await say(`@${carol.username} ping`);
    await eventually("a notification row", async () => (await listed()).some((n) => n.message_id === offline.id));
    expect((await listed()).map((n) => n.message_id)).toContain(offline.id);
    expect((await listed()).map((n) => n.message_id)).not.toContain(online.id);
  }, 60_000);
});
