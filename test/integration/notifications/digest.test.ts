/**
 * Email digests against an SMTP server the test runs itself: a user who is
 * offline gets an email with what they missed; what comes within
 * NOTIFY_EMAIL_INTERVAL_SEC of that email waits and then arrives as one
 * digest; PATCH /users/me {email_notifications: false} stops them; a
 * notification read before its digest is not emailed; a message deleted
 * before its digest is emailed as deleted.
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { call, registerUser, type Driver } from "../../helpers/app";
import { postgresAvailable } from "../../helpers/services";
import { buildTestRuntime, type TestRuntime } from "../../helpers/runtime";
import { SmtpSink } from "../../helpers/smtp-sink";
import { eventually } from "./notifications.suite";

type User = Awaited<ReturnType<typeof registerUser>>;
const INTERVAL_SEC = 3;

/** The body of a plain-text mail, quoted-printable soft breaks joined. */
const bodyOf = (data: string) => data.replace(/=\r\n/g, "");

function digestSuite(driver: Driver) {
  describe(`notification email digests (SMTP sink, ${driver})`, () => {
    let sink: SmtpSink;
    let rt: TestRuntime;
    let alice: User, bob: User, carol: User;
    let room: string;

    beforeAll(async () => {
      sink = SmtpSink.start();
      rt = await buildTestRuntime(driver, { config: { SMTP_URL: sink.url, NOTIFY_EMAIL_INTERVAL_SEC: String(INTERVAL_SEC), NOTIFY_EMAIL_FROM: "Huddle <noreply@huddle.test>" } });
      [alice, bob, carol] = await Promise.all(["ea", "eb", "ec"].map((p) => registerUser(rt.app, p)));
      room = (await call(rt.app, "POST", "/rooms", { token: alice.access_token, body: { name: "mail", members: [bob.user.id, carol.user.id] } })).json.id;
    }, 30_000);
    afterAll(async () => {
      await rt?.close();
      sink?.stop();
    });
    const say = async (content: string) => {
      const res = await call(rt.app, "POST", "/chat/send", { token: alice.access_token, body: { conversation_id: room, content } });
      expect(res.status).toBe(201);
      return res.json.message;
    };
    const emailOf = (u: User) => `${u.username}@example.com`;

    test("the first notification is emailed; later ones wait for the interval and come as one digest", async () => {
      const t0 = Date.now();
      await say(`@${bob.username} the build is red`);
      const first = await eventually("first email", async () => sink.to(emailOf(bob))[0]);
      expect(first.from).toBe("noreply@huddle.test");
      expect(bodyOf(first.data)).toContain("Subject: Huddle: 1 new notification");
      expect(bodyOf(first.data)).toContain(`@${alice.username} mentioned you: @${bob.username} the build is red`);
      await say(`@${bob.username} fixed it`);
      await say(`@${bob.username} deploying now`);
      const second = await eventually("digest", async () => sink.to(emailOf(bob))[1], 15_000);
      // The first digest was claimed after t0, the next one no sooner than the interval after that claim.
      expect(second.at - t0).toBeGreaterThanOrEqual(INTERVAL_SEC * 1000);
      const body = bodyOf(second.data);
      expect(body).toContain("Subject: Huddle: 2 new notifications");
      expect(body).toContain("fixed it");
      expect(body).toContain("deploying now");
      expect(body).not.toContain("the build is red");
      // Emailed notifications stay unread in the app.
      expect((await call(rt.app, "GET", "/users/me", { token: bob.access_token })).json.unread_notifications).toBe(3);
    }, 30_000);

    test("PATCH /users/me {email_notifications: false} stops the emails; the notifications are still listed", async () => {
      const off = await call(rt.app, "PATCH", "/users/me", { token: carol.access_token, body: { email_notifications: false } });
      expect(off.status).toBe(200);
      expect(off.json.email_notifications).toBe(false);
      const m = await say(`@${carol.username} quiet please`);
      await eventually("carol's notification", async () => (await call(rt.app, "GET", "/notifications", { token: carol.access_token })).json.notifications.find((n: { message_id: string }) => n.message_id === m.id));
      // Bob's next digest (after the interval) proves the sweeps ran past carol's notification.
      const before = sink.to(emailOf(bob)).length;
      await say(`@${bob.username} still there?`);
      await eventually("bob's next digest", async () => sink.to(emailOf(bob)).length > before, 15_000);
      await Bun.sleep(INTERVAL_SEC * 250 * 2);
      expect(sink.to(emailOf(carol))).toEqual([]);
    }, 30_000);

    test("a notification read before its digest is not emailed", async () => {
      // Emails paused while the notification arrives and is read, so no sweep can carry it first.
      const patch = (on: boolean) => call(rt.app, "PATCH", "/users/me", { token: bob.access_token, body: { email_notifications: on } });
      expect((await patch(false)).status).toBe(200);
      const before = sink.to(emailOf(bob)).length;
      const read = await say(`@${bob.username} read this in the app`);
      const n = await eventually("notification", async () => (await call(rt.app, "GET", "/notifications", { token: bob.access_token })).json.notifications.find((x: { message_id: string }) => x.message_id === read.id));
      await call(rt.app, "POST", "/notifications/read", { token: bob.access_token, body: { ids: [n.id] } });
      expect((await patch(true)).json.email_notifications).toBe(true);
      await say(`@${bob.username} but not this one`);
      const next = await eventually("next digest", async () => sink.to(emailOf(bob))[before], 15_000);
      expect(bodyOf(next.data)).toContain("but not this one");
      expect(bodyOf(next.data)).not.toContain("read this in the app");
    }, 30_000);

    test("a message deleted before its digest is emailed as deleted, without its text", async () => {
      const patch = (on: boolean) => call(rt.app, "PATCH", "/users/me", { token: bob.access_token, body: { email_notifications: on } });
      expect((await patch(false)).status).toBe(200);
      const before = sink.to(emailOf(bob)).length;
      const gone = await say(`@${bob.username} the wifi password is hunter2`);
      const listed = async () => (await call(rt.app, "GET", "/notifications?limit=100", { token: bob.access_token })).json.notifications
        .find((x: { message_id: string }) => x.message_id === gone.id);
      await eventually("notification", listed);
      expect((await call(rt.app, "DELETE", `/chat/messages/${gone.id}`, { token: alice.access_token })).status).toBe(200);
      await eventually("deletion stored", async () => (await listed())?.excerpt === "(message deleted)");
      expect((await patch(true)).json.email_notifications).toBe(true);
      const next = await eventually("next digest", async () => sink.to(emailOf(bob))[before], 15_000);
      expect(bodyOf(next.data)).toContain(`@${alice.username} mentioned you: (message deleted)`);
      expect(bodyOf(next.data)).not.toContain("hunter2");
    }, 30_000);
  });
}

digestSuite("pglite");
if (await postgresAvailable()) digestSuite("postgres");
else describe.skip("notification email digests on PostgreSQL: PostgreSQL missing", () => {});
