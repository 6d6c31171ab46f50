/**
 * Scenario 5, memory per connection: the server's RSS growth with N idle,
 * authenticated WebSockets (Huddle: `ready` received, following one room) and
 * the same count on one Socket.IO + redis-adapter instance (connected,
 * joined to one room). Users register through the API (argon2 included);
 * MAX_SOCKETS_PER_USER=1000 lets 500 sockets share a user. RSS is read from
 * /proc before and after (median of three samples a second apart), after a
 * warm-up connect of 200 sockets so the baseline includes JIT-compiled paths.
 */
import Redis from "ioredis";
import { startGenerator } from "../lib/generator";
import { createRooms, huddleEnv, registerUsers } from "../lib/huddle";
import { startHuddle, startPeer, type Server } from "../lib/procs";
import { row, type Ctx, type ScenarioResult } from "../lib/report";
import { fmt, median, ratio } from "../lib/stats";
import { rssKB } from "../lib/sys";
import type { ClientSpec, Target } from "../lib/clients";
import { peerScript } from "./chat";

const PER_USER = 500;

async function settledRss(pid: number): Promise<number> {
  const samples: number[] = [];
  for (let i = 0; i < 3; i++) {
    await Bun.sleep(1000);
    samples.push(rssKB(pid));
  }
  return median(samples);
}

async function measure(ctx: Ctx, target: Target, server: Server, specs: ClientSpec[]) {
  const warm = await startGenerator(`warm-${target}`, target, specs.slice(0, 200), 10, 100);
  await warm.quit();
  const before = await settledRss(server.child.pid);
  const t0 = performance.now();
  const gen = await startGenerator(`idle-${target}`, target, specs, 10, 100);
  const connectMs = performance.now() - t0;
  try {
    const after = await settledRss(server.child.pid);
    const kbPerSocket = (after - before) / specs.length;
    ctx.log(`memory: ${target} ${specs.length} sockets in ${Math.round(connectMs)} ms: RSS ${before} -> ${after} KB = ${kbPerSocket.toFixed(1)} KB/socket`);
    return { sockets: specs.length, rssBeforeKB: before, rssAfterKB: after, kbPerSocket, connectMs };
  } finally {
    await gen.quit();
  }
}

export async function memoryScenario(ctx: Ctx, sockets: number): Promise<ScenarioResult> {
  const redis = new Redis(ctx.redis.url);
  await redis.flushall();
  redis.disconnect();
  const results: Record<string, Awaited<ReturnType<typeof measure>>> = {};
  const huddle = await startHuddle("huddle-memory", { ...huddleEnv(), DATABASE_URL: ctx.db.url, REDIS_URL: ctx.redis.url });
  try {
    const users = await registerUsers(huddle.base, Math.max(2, Math.ceil(sockets / PER_USER)));
    const [room] = await createRooms(huddle.base, users, users.length);
    const specs = Array.from({ length: sockets }, (_, i) => ({ url: huddle.ws, token: users[i % users.length]!.token, room: room!, inst: 0 }));
    results.huddle = await measure(ctx, "huddle", huddle, specs);
  } finally {
    await huddle.child.stop();
  }
  const peer = await startPeer("socketio-memory", await peerScript(ctx.peerRuntime), { REDIS_URL: ctx.redis.url }, ctx.peerRuntime);
  try {
    const specs = Array.from({ length: sockets }, () => ({ url: peer.base, room: "room-0", inst: 0 }));
    results.socketio = await measure(ctx, "socketio", peer, specs);
  } finally {
    await peer.child.stop();
  }
  // The runtime's floor: Bun.serve holding the same sockets with nothing attached to them.
  const raw = await startPeer("raw-ws-memory", "bench/peers/raw-ws.ts", {});
  try {
    results.raw = await measure(ctx, "raw", raw, Array.from({ length: sockets }, () => ({ url: raw.ws, room: "room-0", inst: 0 })));
  } finally {
    await raw.child.stop();
  }
  const h = results.huddle.kbPerSocket;
  const p = results.socketio.kbPerSocket;
  const sc = `memory, ${sockets.toLocaleString("en-US")} idle sockets`;
  return {
    name: "memory",
    rows: [
      row(sc, "RSS per idle authenticated socket, KB", fmt(h), `${fmt(p)} (Socket.IO on ${ctx.peerRuntime})`, `${fmt(ratio(h, p))}×`, "≤ 16 KB", h <= 16 ? "met" : "missed"),
      row(sc, "raw Bun.serve with the same sockets (the runtime's floor), KB each", "", fmt(results.raw.kbPerSocket), `Huddle − floor: ${fmt(h - results.raw.kbPerSocket)} KB`),
      row(sc, "server RSS before → after, MB", `${fmt(results.huddle.rssBeforeKB / 1024)} → ${fmt(results.huddle.rssAfterKB / 1024)}`, `${fmt(results.socketio.rssBeforeKB / 1024)} → ${fmt(results.socketio.rssAfterKB / 1024)}`),
    ],
    notes: [],
    raw: results,
  };
}
