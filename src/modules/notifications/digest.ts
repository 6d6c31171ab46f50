/**
 * Email digests (SMTP_URL): a user who has unread notifications that no
 * email carried yet, and has not opted out, gets one email listing them, at
 * most every NOTIFY_EMAIL_INTERVAL_SEC. The first one goes out on the next
 * sweep; what arrives after it waits for the interval and then goes as one
 * digest. Claiming a user is one conditional update of users.last_digest_at,
 * so several instances sweeping at once never send one user two digests in
 * an interval. A failed send puts the claim back, so the next sweep retries.
 */
import { and, eq, inArray, isNull, sql } from "drizzle-orm";
import { rowsOf, type Db } from "../../db/client";
import { messages, notifications, users } from "../../db/schema";
import { currentExcerpt } from "./jobs";
import { log } from "../../lib/log";

/** Sends one email; nodemailer's SMTP transport in production, anything with the same shape in tests. */
export type Mailer = { sendMail(mail: { from: string; to: string; subject: string; text: string }): Promise<unknown> };

export function smtpMailer(url: string): Mailer {
  // nodemailer is loaded by the first email, not by every start (some 30 ms of module loading, on every
  // instance, for a feature most sweeps leave idle); the transport is made once.
  let transport: Promise<Mailer> | undefined;
  return { sendMail: async (mail) => (await (transport ??= import("nodemailer").then((m) => m.createTransport(url)))).sendMail(mail) };
}

/** Notifications listed in one email at most; the rest go in the next digest. */
const PER_EMAIL = 50;
/** Users handled per sweep. */
const USERS_PER_SWEEP = 100;

export class DigestMailer {
  constructor(private readonly db: Db, private readonly mailer: Mailer, private readonly opts: { intervalSec: number; from: string }) {}

  /** One pass over every user due a digest. */
  async sweep(): Promise<number> {
    const due = rowsOf(await this.db.execute(sql`
      select distinct n.user_id from notifications n join users u on u.id = n.user_id
      where n.read_at is null and n.emailed_at is null and u.email_notifications
        and (u.last_digest_at is null or u.last_digest_at <= now() - make_interval(secs => ${this.opts.intervalSec}))
      limit ${USERS_PER_SWEEP}`));
    let sent = 0;
    for (const { user_id } of due) if (await this.sendTo(String(user_id))) sent++;
    return sent;
  }

  private async sendTo(userId: string): Promise<boolean> {
    const [claimed] = rowsOf(await this.db.execute(sql`
      update users u set last_digest_at = now() from (select id, last_digest_at from users where id = ${userId} for update) old
      where u.id = old.id and u.email_notifications
        and (old.last_digest_at is null or old.last_digest_at <= now() - make_interval(secs => ${this.opts.intervalSec}))
      returning u.email, u.username, old.last_digest_at as previous`));
    if (!claimed) return false;
    const items = (await this.db.select({ n: notifications, content: messages.content, type: messages.messageType, deletedAt: messages.deletedAt })
      .from(notifications).leftJoin(messages, eq(messages.id, notifications.messageId))
      .where(and(eq(notifications.userId, userId), isNull(notifications.readAt), isNull(notifications.emailedAt)))
      .orderBy(notifications.id).limit(PER_EMAIL)).map(({ n, ...now }) => ({ ...n, excerpt: currentExcerpt(n.excerpt, now) }));
    if (items.length === 0) return false;
    const senders = new Map((await this.db.select({ id: users.id, username: users.username }).from(users)
      .where(inArray(users.id, [...new Set(items.flatMap((n) => (n.senderId ? [n.senderId] : [])))]))).map((u) => [u.id, u.username]));
    const lines = items.map((n) => {
      const who = n.senderId ? `@${senders.get(n.senderId) ?? "someone"}` : "someone";
      return `- ${who} ${n.kind === "mention" ? "mentioned you" : "wrote to you"}: ${n.excerpt}`;
    });
    try {
      await this.mailer.sendMail({
        from: this.opts.from, to: String(claimed.email),
        subject: `Huddle: ${items.length} new notification${items.length === 1 ? "" : "s"}`,
        text: `Hello ${String(claimed.username)},\n\nwhile you were away:\n\n${lines.join("\n")}\n\n`
          + "Turn these emails off with PATCH /users/me {\"email_notifications\": false}.\n",
      });
    } catch (err) {
      log.warn({ err: { message: (err as Error)?.message }, user: userId }, "digest email failed; retried on the next sweep");
      await this.db.update(users).set({ lastDigestAt: claimed.previous ? new Date(String(claimed.previous)) : null }).where(eq(users.id, userId));
      return false;
    }
    await this.db.update(notifications).set({ emailedAt: new Date() }).where(inArray(notifications.id, items.map((n) => n.id)));
    return true;
  }
}
