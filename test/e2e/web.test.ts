/**
 * The web client in a real browser (Debian's chromium through playwright-core)
 * against a real server: two people chat in real time, hostile content stays
 * text, the session survives a reload, a dropped socket resumes without loss
 * or duplicates, the layout holds at 375 px, and (once the judge is wired) a
 * SQL submission shows its verdict. Screenshots go to test-output/e2e/.
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { mkdirSync, readFileSync } from "node:fs";
import type { Browser, BrowserContext, Page } from "playwright-core";
import { buildTestRuntime, type TestRuntime } from "../helpers/runtime";
import { chromiumAvailable, launchChromium } from "../helpers/browser";

const haveChromium = chromiumAvailable("the web e2e tests are");

const OUT = "test-output/e2e";
const PASSWORD = "correct horse battery";
const XSS = `<script>alert(1)</script><img src=x onerror=alert(2)>`;
const suffix = Date.now().toString(36).slice(-6);
type StorageState = Awaited<ReturnType<BrowserContext["storageState"]>>;

// Built at load time so the SQL test can be skipped when the judge is not wired into the app yet.
const rt: TestRuntime | null = haveChromium ? await buildTestRuntime("pglite", { listen: true, config: { WORKER_CONCURRENCY: "1", RUNNER_POOL_SIZE: "1" } }) : null;
const problemsWired = rt ? (await fetch(`${rt.base}/problems`)).status !== 404 : false;
if (rt && !problemsWired) console.error("SKIP: GET /problems is 404 (judge not wired into the app); the SQL e2e test is skipped");

describe.skipIf(!haveChromium)("web client in a real browser", () => {
  let browser: Browser;
  const problems: string[] = [];
  const dialogs: string[] = [];
  const contexts: BrowserContext[] = [];
  let a: Page;
  let b: Page;
  const alice = `alice${suffix}`;
  const bob = `bob${suffix}`;

  /** A new browser context; `expected` matches console errors this page is meant to produce. */
  async function open(viewport = { width: 1280, height: 800 }, storageState?: StorageState, expected?: RegExp): Promise<Page> {
    const ctx = await browser.newContext({ viewport, storageState });
    contexts.push(ctx);
    const page = await ctx.newPage();
    page.on("console", (m) => {
      if ((m.type() === "error" || m.type() === "warning") && !expected?.test(m.text())) problems.push(`${m.type()}: ${m.text()} (${m.location().url})`);
    });
    page.on("pageerror", (e) => problems.push(`pageerror: ${e.message}`));
    page.on("dialog", (d) => {
      dialogs.push(d.message());
      void d.dismiss();
    });
    return page;
  }

  async function register(page: Page, username: string) {
    await page.goto(rt!.base);
    await page.getByRole("tab", { name: "Create account" }).click();
    await page.getByLabel("Username").fill(username);
    await page.getByLabel("Email").fill(`${username}@example.com`);
    await page.getByLabel("Password").fill(PASSWORD);
    await page.getByRole("button", { name: "Create account", exact: true }).click();
    await page.locator(".layout .me-handle", { hasText: `@${username}` }).waitFor({ timeout: 5000 });
  }

  const shot = (page: Page, name: string) => page.screenshot({ path: `${OUT}/${name}.png` });

  async function apiUser(username: string) {
    const res = await fetch(`${rt!.base}/auth/register`, {
      method: "POST", headers: { "content-type": "application/json" },
      body: JSON.stringify({ username, email: `${username}@example.com`, password: PASSWORD }),
    });
    expect(res.status).toBe(201);
    return (await res.json()) as { user: { id: string }; access_token: string; refresh_token: string };
  }

  /** Browser storage holding a session, as the app writes it. */
  const signedIn = (s: object): StorageState => ({ cookies: [], origins: [{ origin: rt!.base, localStorage: [{ name: "huddle.session", value: JSON.stringify(s) }] }] });

  beforeAll(async () => {
    mkdirSync(OUT, { recursive: true });
    browser = await launchChromium();
  }, 15_000);

  afterAll(async () => {
    await browser?.close();
    await rt?.close();
  });

  test("the page and its assets are served with the CSP and no inline code", async () => {
    const res = await fetch(`${rt!.base}/`);
    expect(res.status).toBe(200);
    expect(res.headers.get("content-type")).toContain("text/html");
    expect(res.headers.get("content-security-policy")).toContain("script-src 'self'");
    const html = await res.text();
    expect(html).not.toMatch(/<script(?![^>]*\bsrc=)[^>]*>/);
    expect(html).not.toMatch(/\sstyle=/);
    const js = html.match(/src="(\/assets\/app\.js\?v=[^"]+)"/)?.[1];
    expect(js).toBeDefined();
    const asset = await fetch(`${rt!.base}${js}`, { headers: { "accept-encoding": "gzip" } });
    expect(asset.status).toBe(200);
    expect(asset.headers.get("content-type")).toContain("javascript");
    expect(asset.headers.get("cache-control")).toContain("immutable");
    expect((await asset.text()).length).toBeGreaterThan(1000);
    const again = await fetch(`${rt!.base}${js}`, { headers: { "if-none-match": asset.headers.get("etag")! } });
    expect(again.status).toBe(304);
    expect((await fetch(`${rt!.base}/assets/nope.js`)).status).toBe(404);
  }, 5000);

  test("two people register and chat in real time", async () => {
    a = await open();
    b = await open();
    await a.goto(rt!.base);
    await a.getByLabel("Username or email").waitFor();
    await shot(a, "login");
    await register(a, alice);
    await register(b, bob);

    // Alice finds Bob and writes first.
    await a.locator('a.tab[href="#/people"]').click();
    await a.getByLabel("Search people").fill(bob);
    await a.locator(`a[data-user="${bob}"]`).click();
    const hello = `Hello Bob, it is ${suffix}`;
    await a.getByLabel("Message", { exact: true }).fill(hello);
    const sentAt = Date.now();
    await a.keyboard.press("Enter");
    await a.locator(".msg.own:not(.pending) .text", { hasText: hello }).waitFor({ timeout: 3000 });

    // Bob sees it live in his list, without reloading. The bound only proves "live" (no reload, no poll);
    // latency is measured in bench/, not here, where a loaded machine would make a tight bound flaky.
    await b.locator(".conv-preview", { hasText: hello }).waitFor({ timeout: 5000 });
    expect(Date.now() - sentAt).toBeLessThan(5000);
    await expect(b.locator(".conv .badge").textContent()).resolves.toBe("1");
    await b.locator(".conv", { hasText: alice }).click();
    await b.locator(".msg.other .text", { hasText: hello }).waitFor();

    const reply = `Hi Alice! ${suffix}`;
    await b.getByLabel("Message", { exact: true }).fill(reply);
    await a.locator(".typing", { hasText: `${bob} is typing` }).waitFor({ timeout: 5000 });
    const repliedAt = Date.now();
    await b.keyboard.press("Enter");
    await a.locator(".msg.other .text", { hasText: reply }).waitFor({ timeout: 5000 });
    expect(Date.now() - repliedAt).toBeLessThan(5000);
    expect(await a.locator(".typing").textContent()).toBe("");
    // Alice has the conversation open, so Bob's own message gets her read marker.
    await b.locator(".seen").waitFor({ timeout: 2000 });
    await shot(a, "chat");
  }, 20_000);

  test("hostile content is shown as text and never runs", async () => {
    await a.getByLabel("Message", { exact: true }).fill(XSS);
    await a.keyboard.press("Enter");
    await b.locator(".msg.other .text", { hasText: "onerror" }).waitFor({ timeout: 2000 });
    expect(await b.locator(".msg.other .text").last().textContent()).toBe(XSS);
    await b.waitForTimeout(300);
    expect(await b.locator('img[src="x"], .messages script').count()).toBe(0);
    expect(dialogs).toEqual([]);
  }, 10_000);

  test("a reload keeps the session and the conversation", async () => {
    await b.reload();
    await b.locator(".me-handle", { hasText: `@${bob}` }).waitFor({ timeout: 5000 });
    await b.locator(".msg.other .text", { hasText: "onerror" }).waitFor({ timeout: 3000 });
    expect(await b.getByLabel("Username or email").count()).toBe(0);
  }, 10_000);

  test("after the socket drops, missed messages arrive once", async () => {
    await a.locator(".status.open").waitFor({ state: "attached" });
    await b.locator(".status.open").waitFor({ state: "attached" });
    // Closes every socket as a shutdown would; both clients reconnect and resume from their last seq.
    rt!.app.hub!.closeAll({ code: 1001, reason: "test: server going away" });
    const missed = `while you were away ${suffix}`;
    await a.getByLabel("Message", { exact: true }).fill(missed);
    await a.keyboard.press("Enter");
    await b.locator(".msg.other .text", { hasText: missed }).waitFor({ timeout: 5000 });
    await b.waitForTimeout(300);
    expect(await b.locator(".msg.other .text", { hasText: missed }).count()).toBe(1);
    expect(await a.locator(".msg.own .text", { hasText: missed }).count()).toBe(1);
    const seqs = await b.locator(".msg[data-seq]").evaluateAll((els) => els.map((e) => Number(e.getAttribute("data-seq"))));
    expect(seqs).toEqual(seqs.map((_, i) => i + 1));
  }, 10_000);

  test("works at 375 px wide", async () => {
    const m = await open({ width: 375, height: 740 }, await contexts[0]!.storageState());
    await m.goto(rt!.base);
    await m.locator(".conv", { hasText: bob }).waitFor({ timeout: 5000 });
    await shot(m, "mobile-list");
    await m.locator(".conv", { hasText: bob }).click();
    await m.locator(".msg .text", { hasText: "onerror" }).waitFor();
    expect(await m.locator(".sidebar").isVisible()).toBe(false);
    expect(await m.evaluate(() => document.documentElement.scrollWidth)).toBeLessThanOrEqual(375);
    await shot(m, "mobile-chat");
    await m.getByRole("link", { name: "Back" }).click();
    await m.locator(".sidebar").waitFor({ state: "visible" });
  }, 10_000);

  test("scrolling up loads earlier history, every seq once", async () => {
    const dave = await apiUser(`dave${suffix}`);
    const erin = await apiUser(`erin${suffix}`);
    for (let i = 1; i <= 70; i++) {
      const res = await fetch(`${rt!.base}/chat/send`, {
        method: "POST", headers: { "content-type": "application/json", authorization: `Bearer ${dave.access_token}` },
        body: JSON.stringify({ to: erin.user.id, content: `history line ${i}` }),
      });
      expect(res.status).toBe(201);
    }
    const page = await open(undefined, signedIn({ ...erin, expires_at: Date.now() + 600_000 }));
    await page.goto(rt!.base);
    await page.locator(".conv", { hasText: `dave${suffix}` }).click();
    await page.locator(".msg .text", { hasText: "history line 70" }).waitFor({ timeout: 5000 });
    const seqs = () => page.locator(".msg[data-seq]").evaluateAll((els) => els.map((e) => Number(e.getAttribute("data-seq"))));
    expect((await seqs()).length).toBeLessThan(70);
    await page.locator(".messages").evaluate((el) => el.scrollTo(0, 0));
    await page.locator(".history-edge", { hasText: "beginning of the conversation" }).waitFor({ timeout: 5000 });
    expect(await seqs()).toEqual(Array.from({ length: 70 }, (_, i) => i + 1));
  }, 15_000);

  test.skipIf(!problemsWired)("a SQL submission shows its verdict", async () => {
    // The runner pool imports the default pack in the background after start-up (PGlite: several seconds).
    const token = JSON.parse((await a.evaluate(() => localStorage.getItem("huddle.session")))!).access_token;
    for (let i = 0; i < 600; i++) {
      const res = await fetch(`${rt!.base}/problems`, { headers: { authorization: `Bearer ${token}` } });
      if (res.ok && ((await res.json()) as { problems: unknown[] }).problems.length > 0) break;
      await Bun.sleep(100);
    }
    await a.locator('a.tab[href="#/problems"]').click();
    const first = a.locator(".problem-row").first();
    await first.waitFor({ timeout: 10_000 });
    await shot(a, "problems");
    const href = (await first.getAttribute("href"))!;
    const id = decodeURIComponent(href.replace("#/problems/", ""));
    const pack = JSON.parse(readFileSync("src/judge/packs/default/pack.json", "utf8")) as { problems: { id: string; solution: string }[] };
    const known = pack.problems.find((p) => p.id === id);
    await first.click();
    await a.locator(".statement").waitFor({ timeout: 5000 });
    await a.getByLabel("Your query").fill(known?.solution ?? "select 1");
    // Ctrl+Enter runs; Shift+Ctrl+Enter submits.
    await a.keyboard.press("Shift+Control+Enter");
    const verdict = a.locator(".job-status .verdict[data-verdict]");
    await verdict.waitFor({ timeout: 20_000 });
    if (known) expect(await verdict.getAttribute("data-verdict")).toBe("accepted");
    await shot(a, "problem");
  }, 90_000);

  test("a refused access token is refreshed once; a dead session returns to sign-in", async () => {
    const session = await apiUser(`carol${suffix}`);
    const state = signedIn;
    const valid = { user: session.user, access_token: session.access_token, refresh_token: session.refresh_token, expires_at: Date.now() + 600_000 };
    // The server refuses the access token although it looks valid here: one refresh, then the app works.
    const p = await open(undefined, state({ ...valid, access_token: "not.a.token" }), /status of 401|WebSocket/);
    await p.goto(rt!.base);
    await p.locator(".me-handle", { hasText: `@carol${suffix}` }).waitFor({ timeout: 5000 });
    await p.locator(".status.open").waitFor({ state: "attached", timeout: 5000 });
    const stored = JSON.parse((await p.evaluate(() => localStorage.getItem("huddle.session")))!);
    expect(stored.access_token).not.toBe("not.a.token");
    expect(stored.refresh_token).not.toBe(session.refresh_token);
    // The refresh token was rotated away: this copy of the session is dead and the app says so.
    const q = await open(undefined, state({ ...valid, access_token: "not.a.token", expires_at: 0 }), /status of 401/);
    await q.goto(rt!.base);
    await q.getByText("Your session has ended").waitFor({ timeout: 5000 });
    expect(await q.evaluate(() => localStorage.getItem("huddle.session"))).toBeNull();
  }, 15_000);

  test("the markdown renderer never lets markup through", async () => {
    const built = await Bun.build({ entrypoints: ["src/web/lib/markdown.ts"], target: "browser", format: "esm" });
    const code = await built.outputs[0]!.text();
    const page = await open();
    const out = await page.evaluate(async (src) => {
      const mod = await import(URL.createObjectURL(new Blob([src], { type: "text/javascript" })));
      const md = "# Title <img src=x onerror=alert(1)>\n\nSome **bold <b>x</b>**, *em* and `<code>`.\n\n- one\n- <script>alert(2)</script>\n\n| a | b |\n|---|---|\n| <i>1</i> | 2 |\n\n```sql\nselect '<iframe>';\n```";
      const root = mod.renderMarkdown(md) as HTMLElement;
      document.body.append(root);
      return {
        tags: [...root.querySelectorAll("*")].map((e) => e.tagName.toLowerCase()),
        h3: root.querySelector("h3")?.textContent,
        strong: root.querySelector("strong")?.textContent,
        cell: root.querySelector("td")?.textContent,
        pre: root.querySelector("pre")?.textContent,
      };
    }, code);
    expect(out.tags.filter((t) => ["img", "script", "b", "i", "iframe"].includes(t))).toEqual([]);
    expect(out.tags).toEqual(expect.arrayContaining(["h3", "p", "strong", "em", "code", "ul", "li", "table", "th", "td", "pre"]));
    expect(out.h3).toBe("Title <img src=x onerror=alert(1)>");
    expect(out.strong).toBe("bold <b>x</b>");
    expect(out.cell).toBe("<i>1</i>");
    expect(out.pre).toBe("select '<iframe>';");
    expect(dialogs).toEqual([]);
  }, 10_000);

  test("no console errors or warnings on any page", () => {
    expect(problems).toEqual([]);
  });
});
