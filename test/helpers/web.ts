/**
 * Pages of the web client for browser tests: a context already signed in as
 * a user (the session in localStorage, as the app writes it), with console
 * errors, page errors and dialogs collected so a test can insist on none.
 */
import { afterAll, beforeAll } from "bun:test";
import type { Browser, BrowserContext, Page } from "playwright-core";
import { call, registerUser } from "./app";
import { launchChromium } from "./browser";
import { buildTestRuntime, generousBuckets, type TestRuntime } from "./runtime";

export type WebUser = Awaited<ReturnType<typeof registerUser>>;

export class WebPages {
  readonly problems: string[] = [];
  private readonly contexts: BrowserContext[] = [];

  constructor(private readonly browser: Browser, private readonly rt: TestRuntime) {}

  /** A signed-in page at `hash`; `expected` matches console errors this page is meant to produce (a 429 answer). */
  async open(user: WebUser, hash = "#/", expected?: RegExp, viewport = { width: 1200, height: 800 }): Promise<Page> {
    const session = { user: user.user, access_token: user.access_token, refresh_token: user.refresh_token, expires_at: Date.now() + 600_000 };
    const ctx = await this.browser.newContext({
      viewport,
      storageState: { cookies: [], origins: [{ origin: this.rt.base, localStorage: [{ name: "huddle.session", value: JSON.stringify(session) }] }] },
    });
    this.contexts.push(ctx);
    const page = await ctx.newPage();
    page.on("console", (m) => {
      if ((m.type() === "error" || m.type() === "warning") && !expected?.test(m.text())) this.problems.push(`${m.type()}: ${m.text()}`);
    });
    page.on("pageerror", (e) => this.problems.push(`pageerror: ${e.message}`));
    page.on("dialog", (d) => {
      this.problems.push(`dialog: ${d.message()}`);
      void d.dismiss();
    });
    await page.goto(`${this.rt.base}/${hash}`);
    await page.locator(".me-handle", { hasText: `@${user.username}` }).waitFor({ timeout: 10_000 });
    return page;
  }

  async close() {
    for (const c of this.contexts) await c.close().catch(() => {});
  }
}

/** The API as a user, for what "another device" does. */
export const asUser = (rt: TestRuntime, user: WebUser) => (method: string, path: string, body?: unknown) =>
  call(rt.app, method, path, { token: user.access_token, body });

/**
 * The usual browser-test stack for a describe block: a PGlite runtime listening on a free port (by
 * default with generous rate limits; `runtime` replaces those options), one Chromium and its signed-in
 * pages; built in beforeAll, closed in afterAll. `use` receives them once built (assign them to the
 * block's variables).
 */
export function webStack(use: (s: { rt: TestRuntime; pages: WebPages }) => void, runtime: Parameters<typeof buildTestRuntime>[1] = { buckets: generousBuckets() }): void {
  let rt: TestRuntime | undefined;
  let browser: Browser | undefined;
  let pages: WebPages | undefined;
  beforeAll(async () => {
    rt = await buildTestRuntime("pglite", { ...runtime, listen: true });
    browser = await launchChromium();
    pages = new WebPages(browser, rt);
    use({ rt, pages });
  }, 30_000);
  afterAll(async () => {
    await pages?.close();
    await browser?.close();
    await rt?.close();
  });
}
