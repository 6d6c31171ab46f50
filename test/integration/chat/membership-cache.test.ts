/**
 * The membership cache on the send path (membership-cache.ts, through ChatService): a steady
 * sender never waits for PostgreSQL once its membership is cached, yet no
 * membership is used more than 5 s after it was read, and a forget (removal)
 * is never undone by a read that was already under way.
 */
import { afterAll, beforeAll, describe, expect, setSystemTime, test } from "bun:test";
import { sql } from "drizzle-orm";
import { call, registerUser } from "../../helpers/app";
import { buildTestRuntime, type TestRuntime } from "../../helpers/runtime";
import { ChatRepo, type Membership } from "../../../src/modules/chat/repo";
import { ChatService } from "../../../src/modules/chat/service";

/** The real repository, counting membership reads and able to hold them (PostgreSQL slow). */
class HeldRepo extends ChatRepo {
  reads = 0;
  private held: Promise<void> | null = null;
  private release: (() => void) | null = null;
  hold() {
    this.held = new Promise((resolve) => (this.release = resolve));
  }
  letGo() {
    this.release?.();
    this.held = null;
  }
  override async membership(conversationId: string, userId: string): Promise<Membership | null> {
    this.reads++;
    if (this.held) await this.held;
    return super.membership(conversationId, userId);
  }
}

const settle = () => new Promise((resolve) => setTimeout(resolve, 20));

/** A service over a HeldRepo whose entry for (conversation, user) is cached at `t0` and, at t0 + 4 s, has a background read held. */
async function heldRefresh(rt: TestRuntime, conversationId: string, userId: string, t0: number) {
  const repo = new HeldRepo(rt.database.db);
  const chat = new ChatService(repo, rt.engine, rt.services.limit);
  setSystemTime(t0);
  await chat.requireMember(conversationId, userId);
  setSystemTime(t0 + 4_000);
  repo.hold();
  await chat.requireMember(conversationId, userId); // starts the background read, which hangs
  return { repo, chat };
}
/** The call's result if it came without waiting on a held read, else "waited". */
const withoutWaiting = <T>(p: Promise<T>) => Promise.race([p, Bun.sleep(100).then(() => "waited" as const)]);

describe("membership cache on the send path", () => {
  let rt: TestRuntime;
  let conversationId: string;
  let a: Awaited<ReturnType<typeof registerUser>>;
  beforeAll(async () => {
    rt = await buildTestRuntime("pglite");
    a = await registerUser(rt.app, "mca");
    const b = await registerUser(rt.app, "mcb");
    const sent = await call(rt.app, "POST", "/chat/send", { token: a.access_token, body: { to: b.user.id, content: "hi" } });
    expect(sent.status).toBe(201);
    conversationId = sent.json.message.conversation_id;
  }, 30_000);
  afterAll(async () => {
    setSystemTime();
    await rt?.close();
  });

  test("read again ahead of expiry in the background; the sender does not wait; a removal shows within 5 s", async () => {
    const repo = new HeldRepo(rt.database.db);
    const chat = new ChatService(repo, rt.engine, rt.services.limit);
    const t0 = Date.now();
    setSystemTime(t0);
    expect((await chat.requireMember(conversationId, a.user.id)).kind).toBe("direct");
    expect(repo.reads).toBe(1);

    // 4 s later, 1 s before expiry: answered from the cache while a read runs behind it, however slow.
    setSystemTime(t0 + 4_000);
    repo.hold();
    expect(await withoutWaiting(chat.requireMember(conversationId, a.user.id))).toMatchObject({ kind: "direct" });
    expect(repo.reads).toBe(2);
    expect(await withoutWaiting(chat.requireMember(conversationId, a.user.id))).toMatchObject({ kind: "direct" });
    expect(repo.reads).toBe(2); // one background read at a time
    repo.letGo();
    await settle();

    // Past the first read's expiry: the refreshed entry answers, no read.
    setSystemTime(t0 + 5_500);
    expect(await withoutWaiting(chat.requireMember(conversationId, a.user.id))).toMatchObject({ kind: "direct" });
    expect(repo.reads).toBe(2);

    // Removed behind the cache's back (no forget): still served until its background read says otherwise...
    await rt.database.db.execute(sql`delete from conversation_members where conversation_id = ${conversationId} and user_id = ${a.user.id}`);
    setSystemTime(t0 + 8_000);
    expect((await chat.requireMember(conversationId, a.user.id)).kind).toBe("direct");
    await settle();
    // ...which found no membership: refused from then on, 4 s after the refreshed read at most.
    await expect(chat.requireMember(conversationId, a.user.id)).rejects.toMatchObject({ status: 404 });
    await rt.database.db.execute(sql`insert into conversation_members (conversation_id, user_id) values (${conversationId}, ${a.user.id})`);
  });

  test("an entry is never used past its expiry, even while its background read hangs", async () => {
    const t0 = Date.now() + 60_000;
    const { repo, chat } = await heldRefresh(rt, conversationId, a.user.id, t0);
    setSystemTime(t0 + 5_001);
    expect(await withoutWaiting(chat.requireMember(conversationId, a.user.id))).toBe("waited");
    repo.letGo();
    await settle();
  });

  test("a forget during a background read is not undone by it", async () => {
    const { repo, chat } = await heldRefresh(rt, conversationId, a.user.id, Date.now() + 120_000);
    chat.forgetMembership(conversationId, a.user.id); // e.g. removed from the room on another instance
    repo.letGo();
    await settle();
    const before = repo.reads;
    await chat.requireMember(conversationId, a.user.id);
    expect(repo.reads).toBe(before + 1); // read afresh, not served by the read that predated the forget
  });
});
