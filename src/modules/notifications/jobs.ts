/**
 * The notification worker's job: one per new message that may notify
 * someone (a direct message, or a room message with mentions), on the
 * `notifications` queue, run by claim loops like the judge and file jobs.
 * Each recipient who is a member and has not muted the conversation gets:
 * - offline (no socket on any instance: no `user:{id}:online` key): a
 *   `notifications` row (one per user and message, so a job that runs twice
 *   stores one), which GET /notifications lists and email digests carry;
 * - online: a `notification` frame on their user channel, which reaches
 *   every socket they have (another device than the one that sent, or a tab
 *   showing another conversation); nothing is stored.
 * Notifications are best effort: a job that used up its attempts is dropped
 * with a warning, never retried forever.
 */
import { and, eq, inArray, isNull, or, sql } from "drizzle-orm";
import type { Db } from "../../db/client";
import { conversationMembers, notifications, users } from "../../db/schema";
import type { ChatMessage, Engine, Job } from "../../engine/types";
import { userChannel } from "../../engine/names";
import { log } from "../../lib/log";
import { EngineUnavailableError } from "../../engine/errors";
import { avatarUrl } from "../users/present";
import type { NotificationAbout } from "./model";

export const NOTIFICATIONS_QUEUE = "notifications";
export const NOTIFY_MAX_ATTEMPTS = 3;
export const NOTIFY_LEASE_MS = 15_000;
const EXCERPT = 200;

/** The first EXCERPT characters of a text message, or a file message's name. */
export function excerptOf(m: Pick<ChatMessage, "content" | "message_type">): string {
  if (m.message_type === "file") {
    try {
      return `[file] ${String((JSON.parse(m.content) as { name?: unknown }).name ?? "")}`.slice(0, EXCERPT);
    } catch {
      return "[file]";
    }
  }
  const chars = Array.from(m.content);
  return chars.length > EXCERPT ? `${chars.slice(0, EXCERPT - 1).join("")}…` : m.content;
}

/** What a notification of a deleted message shows instead of its text. */
export const DELETED_EXCERPT = "(message deleted)";

/**
 * A notification's excerpt as its message is now: the stored one is taken at send time, but
 * an edit must show and a deleted message's text must not stay readable in anyone's list or
 * email. `now` is the message's row (null fields: not in PostgreSQL yet, the stored one holds).
 */
export function currentExcerpt(stored: string, now: { content: string | null; type: string | null; deletedAt: unknown }): string {
  if (now.deletedAt) return DELETED_EXCERPT;
  if (now.content === null || (now.type !== "text" && now.type !== "file")) return stored;
  return excerptOf({ content: now.content, message_type: now.type });
}

export class NotificationJobs {
  constructor(private readonly db: Db, private readonly engine: Engine) {}

  /** After a send: queues the message when it may notify anyone. */
  async enqueue(m: ChatMessage): Promise<void> {
    if (m.message_type === "system" || (!m.receiver_id && !m.mentions?.length)) return;
    try {
      await this.engine.queue(NOTIFICATIONS_QUEUE).push(m.id, { message: m });
    } catch (err) {
      // The message went straight to PostgreSQL: it notifies nobody (README, "Mentions and notifications").
      if (!(err instanceof EngineUnavailableError)) throw err;
      log.debug({ message: m.id }, "notification not queued: Redis is unreachable");
    }
  }

  async run(job: Job): Promise<void> {
    const m = job.data.message as ChatMessage | undefined;
    if (!m?.conversation_id) return;
    const kind = m.receiver_id ? "direct" : "mention";
    const named = (m.receiver_id ? [m.receiver_id] : (m.mentions ?? [])).filter((id) => id !== m.sender_id);
    if (named.length === 0) return;
    const recipients = (await this.db.select({ id: conversationMembers.userId }).from(conversationMembers).where(and(
      eq(conversationMembers.conversationId, m.conversation_id), inArray(conversationMembers.userId, named),
      or(isNull(conversationMembers.mutedUntil), sql`${conversationMembers.mutedUntil} <= now()`),
    ))).map((r) => r.id);
    if (recipients.length === 0) return;
    const online = await this.engine.presence.online(recipients);
    const offline = recipients.filter((id) => !online.has(id));
    const excerpt = excerptOf(m);
    if (offline.length) {
      await this.db.insert(notifications).values(offline.map((userId) => ({
        id: Bun.randomUUIDv7(), userId, kind, conversationId: m.conversation_id, messageId: m.id, seq: m.seq,
        senderId: m.sender_id, excerpt, createdAt: new Date(m.timestamp),
      } as const))).onConflictDoNothing();
    }
    if (online.size) {
      const [s] = await this.db.select().from(users).where(eq(users.id, m.sender_id));
      const about: NotificationAbout = {
        kind, conversation_id: m.conversation_id, message_id: m.id, seq: m.seq, excerpt, created_at: m.timestamp,
        sender: s ? { id: s.id, username: s.username, display_name: s.displayName ?? null, avatar_url: avatarUrl(s) } : null,
      };
      const frame = JSON.stringify({ type: "notification", notification: about });
      await Promise.all([...online].map((id) => this.engine.broker.publish(userChannel(id), frame)));
    }
  }

  /** The reaper's end for a job that failed every attempt: notifications are best effort. */
  async giveUp(job: Pick<Job, "id">): Promise<void> {
    log.warn({ message: job.id }, "notification job failed on every attempt; dropped");
  }
}

/** Unread notifications of a user (GET /users/me, POST /notifications/read). */
export async function unreadCount(db: Db, userId: string): Promise<number> {
  const [row] = await db.select({ n: sql<number>`count(*)::int` }).from(notifications)
    .where(and(eq(notifications.userId, userId), isNull(notifications.readAt)));
  return Number(row?.n ?? 0);
}

