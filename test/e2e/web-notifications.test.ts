/**
 * Mentions and notifications in the web client (real browser, real server,
 * real notification worker): a mention made while I was offline is on the
 * bell when I come; one made while I am online arrives live, and while the
 * tab is hidden also as a browser notification; muting a conversation stops
 * them; "Mark all as read" empties the count; a mention stored while the
 * socket was reconnecting is counted once it is back, without a reload.
 */
import { describe, expect, test } from "bun:test";
import type { Page } from "playwright-core";
import { type TestRuntime } from "../helpers/runtime";
import { chromiumAvailable } from "../helpers/browser";
import { registerUser } from "../helpers/app";
import { asUser, WebPages, webStack } from "../helpers/web";

const haveChromium = chromiumAvailable("the web notification e2e tests are");

/** Records browser notifications, and lets the test say the tab is hidden. */
const RECORD = `
  window.__shown = [];
  const Real = window.Notification;
  if (Real) {
    class Recorded extends Real { constructor(title, opts) { window.__shown.push({ title, body: opts && opts.body }); super(title, opts); } }
    window.Notification = Recorded;
  }
  Object.defineProperty(Document.prototype, "visibilityState", { get: () => (window.__hidden ? "hidden" : "visible") });
`;

describe.skipIf(!haveChromium)("web client: mentions and notifications", () => {
  let rt: TestRuntime;
  let pages: WebPages;
  webStack((s) => ({ rt, pages } = s));

  const bell = (p: Page) => p.locator("button.bell");

  test("offline mention on the bell, live mention with a browser notification, mute, mark all read", async () => {
    const [olga, bob, carol] = [await registerUser(rt.app, "olga"), await registerUser(rt.app, "bob"), await registerUser(rt.app, "carol")];
    const room = (await asUser(rt, olga)("POST", "/rooms", { name: "pings" })).json.id as string;
    await asUser(rt, bob)("POST", `/rooms/${room}/join`);
    await asUser(rt, carol)("POST", `/rooms/${room}/join`);

    // Carol is offline: the mention is stored, and the bell shows it when she comes.
    const sent = (await asUser(rt, olga)("POST", "/chat/send", { conversation_id: room, content: `@${carol.username} look at this` })).json.message;
    for (let i = 0; i < 100 && (await asUser(rt, carol)("GET", "/users/me")).json.unread_notifications !== 1; i++) await Bun.sleep(100);
    const c = await pages.open(carol, "#/");
    await c.getByRole("button", { name: "Notifications, 1 unread" }).waitFor({ timeout: 5000 });
    await bell(c).click();
    const panel = c.getByRole("dialog", { name: "Notifications" });
    const note = panel.locator(".note.unread", { hasText: "mentioned you" });
    await note.waitFor({ timeout: 5000 });
    expect(await note.textContent()).toContain("look at this");
    await panel.getByRole("button", { name: "Mark all as read" }).click();
    await c.getByRole("button", { name: "Notifications", exact: true }).waitFor({ timeout: 5000 });
    expect((await asUser(rt, carol)("GET", "/users/me")).json.unread_notifications).toBe(0);
    await panel.locator(".note", { hasText: "look at this" }).click();
    await c.waitForURL(new RegExp(`#/c/${room}/${sent.seq}$`), { timeout: 5000 });
    await c.locator(`.msg.found[data-seq="${sent.seq}"]`).waitFor({ timeout: 5000 });

    // Bob is online with the tab hidden: the mention arrives live, on the bell and as a browser notification.
    const b = await pages.open(bob, "#/");
    await b.context().grantPermissions(["notifications"], { origin: rt.base });
    await b.addInitScript(RECORD);
    await b.reload();
    await b.locator(".me-handle").waitFor({ timeout: 5000 });
    // Online means the reloaded page's socket is up (the worker asks presence), not just the page drawn:
    // a mention processed before that is stored for later instead, with no live frame (seen once in CI).
    for (let i = 0; i < 100 && !(await rt.engine.presence.online([bob.user.id])).has(bob.user.id); i++) await Bun.sleep(50);
    expect((await rt.engine.presence.online([bob.user.id])).has(bob.user.id)).toBe(true);
    await b.evaluate(() => ((window as unknown as { __hidden: boolean }).__hidden = true));
    await asUser(rt, olga)("POST", "/chat/send", { conversation_id: room, content: `ping @${bob.username}, are you there?` });
    await b.getByRole("button", { name: "Notifications, 1 unread" }).waitFor({ timeout: 10_000 });
    const shown = await b.evaluate(() => (window as unknown as { __shown: { title: string; body: string }[] }).__shown);
    expect(shown.length).toBe(1);
    expect(shown[0]!.title).toContain("mentioned you");
    expect(shown[0]!.body).toContain("are you there?");
    await b.evaluate(() => ((window as unknown as { __hidden: boolean }).__hidden = false));

    // Bob mutes the room: a later mention there notifies nobody, a direct message still does.
    await b.goto(`${rt.base}/#/c/${room}`);
    await b.locator(".conv-options summary").click();
    await b.getByRole("button", { name: "Mute" }).click();
    await b.locator(".mute-btn[aria-pressed=true]", { hasText: "Unmute" }).waitFor({ timeout: 5000 });
    await asUser(rt, olga)("POST", "/chat/send", { conversation_id: room, content: `@${bob.username} muted ping` });
    await asUser(rt, olga)("POST", "/chat/send", { to: bob.user.id, content: "a direct line after the mute" });
    await bell(b).click();
    const his = b.getByRole("dialog", { name: "Notifications" });
    await his.locator(".note", { hasText: "a direct line after the mute" }).waitFor({ timeout: 10_000 });
    expect(await his.locator(".note", { hasText: "wrote to you" }).count()).toBe(1);
    expect(await his.locator(".note", { hasText: "muted ping" }).count()).toBe(0);
    expect(pages.problems).toEqual([]);
  }, 90_000);

  test("a mention stored while my socket reconnects reaches the bell without a reload", async () => {
    const [olga, dan] = [await registerUser(rt.app, "olga"), await registerUser(rt.app, "dan")];
    const room = (await asUser(rt, olga)("POST", "/rooms", { name: "blips" })).json.id as string;
    await asUser(rt, dan)("POST", `/rooms/${room}/join`);
    const d = await pages.open(dan, "#/");
    await d.locator(".me-handle").waitFor({ timeout: 5000 });
    const online = async () => (await rt.engine.presence.online([dan.user.id])).has(dan.user.id);
    for (let i = 0; i < 100 && !(await online()); i++) await Bun.sleep(50);
    expect(await online()).toBe(true);

    // The network drops: new sockets fail until `down` is cleared; the open one is closed by the server.
    let down = true;
    await d.routeWebSocket(/\/chat\/subscribe$/, (ws) => (down ? ws.close({ code: 1006, reason: "test: network down" }) : ws.connectToServer()));
    rt.app.hub!.closeAll({ code: 1001, reason: "test: server going away" });
    for (let i = 0; i < 100 && (await online()); i++) await Bun.sleep(50);
    expect(await online()).toBe(false);

    // Dan is offline now, so the mention is stored, not sent live.
    await asUser(rt, olga)("POST", "/chat/send", { conversation_id: room, content: `@${dan.username} while you reconnect` });
    for (let i = 0; i < 100 && (await asUser(rt, dan)("GET", "/users/me")).json.unread_notifications !== 1; i++) await Bun.sleep(100);
    expect((await asUser(rt, dan)("GET", "/users/me")).json.unread_notifications).toBe(1);
    expect(await bell(d).getAttribute("aria-label")).toBe("Notifications");

    // The network is back (a visible tab retries at once): the socket's `ready` brings the stored count, no reload.
    down = false;
    await d.evaluate(() => document.dispatchEvent(new Event("visibilitychange")));
    await d.getByRole("button", { name: "Notifications, 1 unread" }).waitFor({ timeout: 15_000 });
    expect(await online()).toBe(true);
    await bell(d).click();
    await d.getByRole("dialog", { name: "Notifications" }).locator(".note.unread", { hasText: "while you reconnect" }).waitFor({ timeout: 5000 });
    expect(pages.problems).toEqual([]);
  }, 60_000);
});
