/**
 * Who belongs to which conversation, as the send path asks it many times a
 * second: PostgreSQL's answer kept for 5 s per instance (ChatService.requireMember).
 *
 * An entry used in its last REFRESH_AHEAD_MS is read again in the background,
 * so a steady sender never waits for PostgreSQL (a busy or slow one made every
 * fifth second of a sender's messages wait for a read, and entries cached
 * together expire together). No entry is used past its expiry, so a membership
 * is at most TTL_MS old; a forget (removal, leave, clear) drops an entry at
 * once, and a background read already under way then is dropped too.
 */
import { isDatabaseUnavailable } from "../../db/errors";
import { NotFound } from "../../errors";
import { log } from "../../lib/log";
import type { ChatRepo, Membership } from "./repo";

const TTL_MS = 5_000;
const REFRESH_AHEAD_MS = 1_500;
/** Past this many entries the cache starts over (a bound on memory, not a policy). */
const MAX_ENTRIES = 50_000;

type Entry = { m: Membership; until: number; refreshing?: boolean };

export class MembershipCache {
  private readonly entries = new Map<string, Entry>();

  constructor(private readonly repo: Pick<ChatRepo, "membership">) {}

  /** The membership or NotFound; `fresh` reads PostgreSQL whatever the cache holds. */
  async require(conversationId: string, userId: string, fresh = false): Promise<Membership> {
    const key = `${conversationId}:${userId}`;
    const hit = this.entries.get(key);
    const now = Date.now();
    if (!fresh && hit && hit.until > now) {
      if (!hit.refreshing && hit.until - now < REFRESH_AHEAD_MS) this.refresh(key, hit, conversationId, userId);
      return hit.m;
    }
    let m: Membership | null;
    try {
      m = await this.repo.membership(conversationId, userId);
    } catch (err) {
      // PostgreSQL unreachable: a membership seen before still holds, so sends keep flowing into Redis.
      if (hit && isDatabaseUnavailable(err)) return hit.m;
      throw err;
    }
    if (!m) throw new NotFound("conversation");
    if (this.entries.size > MAX_ENTRIES) this.entries.clear();
    this.entries.set(key, { m, until: Date.now() + TTL_MS });
    return m;
  }

  forget(conversationId: string, userId: string) {
    this.entries.delete(`${conversationId}:${userId}`);
  }

  private refresh(key: string, hit: Entry, conversationId: string, userId: string) {
    hit.refreshing = true;
    this.repo.membership(conversationId, userId).then((m) => {
      // Forgotten meanwhile: this read may predate the change, so it is dropped.
      if (this.entries.get(key) !== hit) return;
      if (m) this.entries.set(key, { m, until: Date.now() + TTL_MS });
      else this.entries.delete(key);
    }, (err) => {
      // The entry expires as it would have; the next use past it reads (or, PostgreSQL down, keeps it).
      hit.refreshing = false;
      log.debug({ err, conversation: conversationId }, "membership not refreshed");
    });
  }
}
