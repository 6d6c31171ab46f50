/**
 * The engine contract on a real 3-master Redis Cluster started for this file
 * (test/helpers/redis-cluster.ts), plus what only a cluster has: every key of
 * a conversation in one slot, the outbox spread over shards, and sharded
 * pub/sub following a slot to its new master.
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import type { Cluster } from "ioredis";
import { createEngine, type Engine } from "../../../src/engine";
import { slotOf } from "../../../src/engine/redis/connection";
import * as keys from "../../../src/engine/redis/keys";
import { clusterTools, startTestCluster, type TestCluster } from "../../helpers/redis-cluster";
import { engineContract, newMessage } from "./engine.contract";

const ok = clusterTools();

describe.skipIf(!ok)("redis cluster engine", () => {
  let cluster: TestCluster;
  let admin: Cluster;
  beforeAll(async () => {
    cluster = await startTestCluster({ masters: 3 });
    admin = cluster.admin();
  }, 60_000);
  afterAll(async () => {
    admin?.disconnect();
    await cluster?.stop();
  });

  engineContract({
    create: async () => {
      await cluster.flush();
      return createEngine({ redisClusterNodes: cluster.nodes });
    },
    peer: () => createEngine({ redisClusterNodes: cluster.nodes }),
    requeuesDuplicates: true,
  });

  describe("slots", () => {
    let engine: Engine;
    beforeAll(async () => {
      await cluster.flush();
      engine = await createEngine({ redisClusterNodes: cluster.nodes });
    });
    afterAll(() => engine.close());

    test("a conversation's keys and channel share one slot; the outbox shards spread over every master", async () => {
      const cid = Bun.randomUUIDv7();
      const sender = Bun.randomUUIDv7();
      const slot = slotOf(keys.chatSeq(cid));
      for (const k of [keys.chatMessages(cid), keys.chatIdempotency(cid, sender, "x"), keys.chatChannel(cid)]) expect(slotOf(k)).toBe(slot);
      expect(Number(await admin.cluster("KEYSLOT", keys.chatSeq(cid)))).toBe(slot);
      await engine.chat.seedSeq(cid, 0);
      const { message } = await engine.chat.append(newMessage(cid, sender, { client_id: "x" }));
      expect(await admin.get(keys.chatSeq(cid))).toBe("1");
      expect(JSON.parse((await admin.lrange(keys.chatMessages(cid), 0, -1))[0]!)).toEqual(message);
      const stream = await admin.xrange(keys.chatPersistShard(keys.outboxShardOf(cid)), "-", "+");
      expect(stream.map(([, f]) => JSON.parse(f[1]!))).toEqual([message]);
      const owners = new Set<number>();
      for (let s = 0; s < keys.OUTBOX_SHARDS; s++) owners.add(await cluster.masterOf(keys.chatPersistShard(s)));
      expect(owners.size).toBe(3);
    });

    test("presence and membership work across users in different slots", async () => {
      const users = Array.from({ length: 20 }, () => Bun.randomUUIDv7());
      expect(new Set(users.map((u) => slotOf(keys.userOnline(u)))).size).toBeGreaterThan(1);
      for (const u of users.slice(0, 10)) await engine.presence.setOnline(u, 60);
      expect(await engine.presence.online(users)).toEqual(new Set(users.slice(0, 10)));
      const cid = Bun.randomUUIDv7();
      await engine.chat.addMember(cid, users);
      for (const u of users) expect(await engine.chat.conversationsOf(u)).toEqual([cid]);
    });

    test("chat events travel by SPUBLISH only: the channel is a shard channel on its slot's master", async () => {
      const cid = Bun.randomUUIDv7();
      const got: string[] = [];
      const stop = await engine.broker.subscribe(keys.chatChannel(cid), (p) => got.push(p));
      const master = await cluster.masterOf(keys.chatChannel(cid));
      const node = admin.nodes("master").find((n) => n.options.port === master)!;
      expect(await node.call("PUBSUB", "SHARDCHANNELS", keys.chatChannel(cid))).toEqual([keys.chatChannel(cid)]);
      expect(await node.call("PUBSUB", "CHANNELS", keys.chatChannel(cid))).toEqual([]);
      await engine.chat.seedSeq(cid, 0);
      await engine.chat.append(newMessage(cid, Bun.randomUUIDv7()));
      for (let i = 0; i < 100 && got.length === 0; i++) await Bun.sleep(20);
      expect(got.length).toBe(1);
      await stop();
      expect(await node.call("PUBSUB", "SHARDCHANNELS", keys.chatChannel(cid))).toEqual([]);
    });

    test("a subscription follows its slot when the slot moves to another master, and listeners are told to resync", async () => {
      const cid = Bun.randomUUIDv7();
      const channel = keys.chatChannel(cid);
      const got: string[] = [];
      let resyncs = 0;
      const off = engine.broker.onReconnect(() => resyncs++);
      const stop = await engine.broker.subscribe(channel, (p) => got.push(p));
      const slot = slotOf(channel);
      const fromPort = await cluster.masterOf(channel);
      const masters = admin.nodes("master");
      const from = masters.find((n) => n.options.port === fromPort)!;
      const to = masters.find((n) => n.options.port !== fromPort)!;
      const [fromId, toId] = [String(await from.cluster("MYID")), String(await to.cluster("MYID"))];
      await to.cluster("SETSLOT", slot, "IMPORTING", fromId);
      await from.cluster("SETSLOT", slot, "MIGRATING", toId);
      for (const n of masters) await n.cluster("SETSLOT", slot, "NODE", toId);
      for (let i = 0; i < 150 && resyncs === 0; i++) await Bun.sleep(20);
      expect(resyncs).toBeGreaterThan(0);
      await engine.broker.publish(channel, "after the move");
      for (let i = 0; i < 150 && !got.includes("after the move"); i++) await Bun.sleep(20);
      expect(got).toContain("after the move");
      off();
      await stop();
    });
  });
});
