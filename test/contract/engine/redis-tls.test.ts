/**
 * The engine contract a third time, on a Redis that only speaks TLS and wants
 * a password (`rediss://:secret@...`), plus what only such a server can show:
 * every connection role (commands, subscriber, blocking queue claims, blocking
 * outbox reads) takes its TLS and credentials from the URL; `redis://user:pw@`
 * works on a plain port; a wrong or missing password fails calls at once with
 * an error naming the cause; and a private CA is trusted through
 * NODE_EXTRA_CA_CERTS (and refused without it).
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { resolve } from "node:path";
import type Redis from "ioredis";
import { createEngine, EngineUnavailableError, type Engine } from "../../../src/engine";
import { startTlsRedis, tlsRedisTools, trustCaInProcess, type TlsRedis } from "../../helpers/tls-redis";
import { engineContract, newMessage } from "./engine.contract";

const ok = tlsRedisTools();
const uid = () => Bun.randomUUIDv7();

async function until(check: () => boolean, ms = 2000): Promise<void> {
  const end = Date.now() + ms;
  while (!check()) {
    if (Date.now() > end) throw new Error("condition not met in time");
    await Bun.sleep(5);
  }
}

/** CLIENT LIST as records: `name`, `user`, `laddr` (the server address the client dialled), ... */
async function clients(admin: Redis): Promise<Record<string, string>[]> {
  const text = String(await admin.client("LIST"));
  return text.trim().split("\n").map((line) => Object.fromEntries(line.trim().split(" ").map((kv) => {
    const i = kv.indexOf("=");
    return [kv.slice(0, i), kv.slice(i + 1)];
  })));
}

/**
 * Makes the engine open one connection of each role and use it: a command,
 * a subscription that receives, an outbox read that blocks, a queue claim
 * that blocks. Returns the claimer so the caller can look before closing it.
 */
async function useEveryRole(engine: Engine) {
  const channel = `roles:${uid()}`;
  const got: string[] = [];
  const unsubscribe = await engine.broker.subscribe(channel, (p) => got.push(p));
  await engine.broker.publish(channel, "hi");
  await until(() => got.length === 1);
  await unsubscribe();

  await engine.outbox.ensureGroup();
  const cid = uid();
  await engine.chat.seedSeq(cid, 0);
  const { message } = await engine.chat.append(newMessage(cid, uid()));
  const entries = await engine.outbox.read("reader", 10, 1_000);
  expect(entries.map((e) => e.message.id)).toContain(message.id);

  const queue = engine.queue(`roles${uid().slice(-6)}`);
  const jobId = uid();
  await queue.push(jobId, { n: 1 });
  const claimer = queue.claimer("w1");
  expect(await claimer.claim(10_000, 1_000)).toMatchObject({ id: jobId });
  return claimer;
}

describe.skipIf(!ok)("redis engine over TLS with a password", () => {
  let server: TlsRedis;
  let admin: Redis;
  let untrust: (() => void) | undefined;
  beforeAll(async () => {
    server = await startTlsRedis({ plain: true });
    admin = server.admin();
    untrust = trustCaInProcess(server.ca);
    // A named ACL user, to check `user:password@` URLs (the password alone is the `default` user).
    await admin.acl("SETUSER", "huddle-app", "on", ">app-pw", "~*", "&*", "+@all");
  }, 30_000);
  afterAll(async () => {
    untrust?.();
    admin?.disconnect();
    await server?.stop();
  });

  engineContract({
    create: async () => {
      await admin.flushdb();
      return createEngine({ redisUrl: server.url });
    },
    peer: () => createEngine({ redisUrl: server.url }),
  });

  const cases = [
    { scheme: "rediss", port: () => server.port },
    { scheme: "redis", port: () => server.plainPort! },
  ];
  for (const c of cases) {
    test(`${c.scheme}://user:password@ reaches every connection role`, async () => {
      const instance = `roles-${c.scheme}`;
      const engine = await createEngine({ redisUrl: `${c.scheme}://huddle-app:app-pw@127.0.0.1:${c.port()}`, instance });
      try {
        const claimer = await useEveryRole(engine);
        const ours = (await clients(admin)).filter((cl) => cl.name!.startsWith(`huddle:${instance}:`));
        const roles = ours.map((cl) => cl.name!.slice(`huddle:${instance}:`.length)).sort();
        expect(roles).toEqual(["cmd", "outbox-reader", expect.stringMatching(/^roles\w+-w1$/), "sub"]);
        for (const cl of ours) {
          expect(cl.user).toBe("huddle-app");
          // The server listens on both ports: the address each connection dialled shows which one it took.
          expect(cl.laddr).toBe(`127.0.0.1:${c.port()}`);
        }
        await claimer.close();
      } finally {
        await engine.close();
      }
    });
  }

  for (const [label, auth, reply] of [["a wrong password", ":wrong@", /WRONGPASS/], ["no password", "", /NOAUTH/]] as const) {
    test(`${label} fails every role's calls at once with an error that says why`, async () => {
      const started = Date.now();
      const engine = await createEngine({ redisUrl: `rediss://${auth}127.0.0.1:${server.port}`, connectTimeoutMs: 1_000 });
      try {
        const failures = await Promise.all([
          engine.ping().then(() => null, (e) => e),
          engine.queue("denied").claimer("w").claim(1_000, 500).then(() => null, (e) => e),
          engine.outbox.read("denied", 10, 500).then(() => null, (e) => e),
        ]);
        for (const err of failures) {
          expect(err).toBeInstanceOf(EngineUnavailableError);
          expect((err as Error).message).toMatch(reply);
        }
        // Not hanging: each call waited at most for one connection attempt.
        expect(Date.now() - started).toBeLessThan(3_000);
      } finally {
        await engine.close();
      }
    });
  }

  test("NODE_EXTRA_CA_CERTS makes a process trust the private CA; without it the certificate is refused", async () => {
    const script = `
      import { createEngine } from ${JSON.stringify(resolve(import.meta.dir, "../../../src/engine/index.ts"))};
      const engine = await createEngine({ redisUrl: process.env.REDIS_URL, connectTimeoutMs: 2000 });
      try { await engine.ping(); console.log("PONG"); } catch (err) { console.log(err.message); }
      await engine.close();`;
    const ping = async (extra: Record<string, string>) => {
      const env: Record<string, string | undefined> = { ...process.env, REDIS_URL: server.url, ...extra };
      if (!extra.NODE_EXTRA_CA_CERTS) delete env.NODE_EXTRA_CA_CERTS;
      const p = Bun.spawn([process.execPath, "-e", script], { env, stdout: "pipe", stderr: "pipe" });
      const [out] = await Promise.all([new Response(p.stdout).text(), p.exited]);
      return out.trim();
    };
    const [trusted, untrusted] = await Promise.all([ping({ NODE_EXTRA_CA_CERTS: server.caFile }), ping({})]);
    expect(trusted).toBe("PONG");
    expect(untrusted).toMatch(/^Redis unavailable: .*certificate/);
  }, 20_000);
});
