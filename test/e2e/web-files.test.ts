/**
 * Files in the web client, in a real browser against a real server (memory
 * engine, PGlite): Alice attaches a picture and a text file in a direct
 * conversation; both she and Bob see the thumbnail and the download button
 * live, downloads carry the file's name, and refused files (a program named
 * .png, an oversized file) show the server's reason and post nothing. A
 * direct conversation not written to yet can start with a file.
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { mkdirSync, mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Jimp } from "jimp";
import type { Browser, BrowserContext, Page } from "playwright-core";
import { buildTestRuntime, type TestRuntime } from "../helpers/runtime";
import { chromiumAvailable, launchChromium } from "../helpers/browser";
import { call, registerUser } from "../helpers/app";

const haveChromium = chromiumAvailable("the web file e2e tests are");
const OUT = "test-output/e2e";
const MAX_UPLOAD = 64 * 1024;
const suffix = Date.now().toString(36).slice(-6);
type User = Awaited<ReturnType<typeof registerUser>>;

describe.skipIf(!haveChromium)("web client: files", () => {
  let rt: TestRuntime;
  let dataDir: string;
  let browser: Browser;
  let alice: User, bob: User;
  let conversation: string;
  let a: Page, b: Page;
  const contexts: BrowserContext[] = [];
  const problems: string[] = [];

  async function open(user: User): Promise<Page> {
    const session = { user: user.user, access_token: user.access_token, refresh_token: user.refresh_token, expires_at: Date.now() + 600_000 };
    const ctx = await browser.newContext({
      viewport: { width: 1100, height: 800 }, acceptDownloads: true,
      storageState: { cookies: [], origins: [{ origin: rt.base, localStorage: [{ name: "huddle.session", value: JSON.stringify(session) }] }] },
    });
    contexts.push(ctx);
    const page = await ctx.newPage();
    // The 413/415 answers are logged by the browser as failed requests; anything else is a bug (a CSP refusal, an exception).
    page.on("console", (m) => {
      if (m.type() === "error" && !/status of 41[35]/.test(m.text())) problems.push(`${m.type()}: ${m.text()}`);
    });
    page.on("pageerror", (e) => problems.push(`pageerror: ${e.message}`));
    page.on("dialog", (d) => {
      problems.push(`dialog: ${d.message()}`);
      void d.dismiss();
    });
    await page.goto(`${rt.base}/#/c/${conversation}`);
    await page.locator(".msg .text", { hasText: "files coming" }).waitFor({ timeout: 10_000 });
    await page.locator(".status.open").waitFor({ state: "attached", timeout: 10_000 });
    return page;
  }

  /** Records every text the pending item of an upload shows, so short-lived states are not missed. */
  const watchUploads = (page: Page) => page.evaluate(() => {
    const w = window as unknown as { uploadStates: string[] };
    w.uploadStates = [];
    new MutationObserver(() => {
      for (const s of document.querySelectorAll(".upload .upload-state")) {
        const t = s.textContent ?? "";
        if (w.uploadStates.at(-1) !== t) w.uploadStates.push(t);
      }
    }).observe(document.body, { subtree: true, childList: true, characterData: true });
  });
  const uploadStates = (page: Page) => page.evaluate(() => (window as unknown as { uploadStates: string[] }).uploadStates);

  const fileMessages = (page: Page) => page.locator(".msg .attachment-wrap").count();

  beforeAll(async () => {
    mkdirSync(OUT, { recursive: true });
    dataDir = mkdtempSync(join(tmpdir(), "huddle-web-files-"));
    rt = await buildTestRuntime("pglite", { listen: true, config: { DATA_DIR: dataDir, MAX_UPLOAD_BYTES: String(MAX_UPLOAD), FILE_WORKER_CONCURRENCY: "1" } });
    [alice, bob] = [await registerUser(rt.app, "wfa"), await registerUser(rt.app, "wfb")];
    const hi = await call(rt.app, "POST", "/chat/send", { token: alice.access_token, body: { to: bob.user.id, content: "files coming" } });
    conversation = hi.json.message.conversation_id;
    browser = await launchChromium();
    [a, b] = [await open(alice), await open(bob)];
  }, 60_000);

  afterAll(async () => {
    for (const c of contexts) await c.close().catch(() => {});
    await browser?.close();
    await rt?.close();
    rmSync(dataDir, { recursive: true, force: true });
  });

  test("a picture shows progress, then its thumbnail for both people; a click opens it in a viewer that downloads it by name", async () => {
    // No slash: the server keeps only the last path segment of a name.
    const name = `pic <img src=x onerror=alert(1)> ${suffix}.png`;
    const png = await new Jimp({ width: 64, height: 48, color: 0x3366ccff }).getBuffer("image/png");
    await watchUploads(a);
    await a.getByRole("button", { name: "Attach a file" }).waitFor();
    await a.locator('.composer input[type="file"]').setInputFiles({ name, mimeType: "image/png", buffer: png });

    const thumb = (page: Page) => page.locator(`.msg img.thumb[alt="${name}"]`);
    for (const page of [a, b]) {
      await thumb(page).waitFor({ timeout: 30_000 });
      await page.waitForFunction((alt) => {
        const img = [...document.querySelectorAll<HTMLImageElement>(".msg img.thumb")].find((i) => i.alt === alt);
        return !!img && img.complete && img.naturalWidth > 0;
      }, name, { timeout: 10_000 });
      expect(await thumb(page).getAttribute("src")).toStartWith("blob:");
      // The name is text: no element came out of it.
      expect(await page.locator('.messages img[src="x"]').count()).toBe(0);
    }
    expect(await a.locator(".msg.own img.thumb").count()).toBe(1);
    expect(await b.locator(".msg.other img.thumb").count()).toBe(1);
    const states = await uploadStates(a);
    expect(states.some((s) => /^\d+%$/.test(s))).toBe(true);
    expect(states).toContain("Processing…");
    // The pending item is gone once the message is there.
    await a.locator(".upload").waitFor({ state: "detached", timeout: 5000 });

    // A click opens the picture in a viewer (full size, not a download); Esc closes it.
    await b.getByRole("button", { name: `View ${name} (` }).click();
    const viewer = b.getByRole("dialog", { name });
    await viewer.waitFor({ timeout: 5000 });
    await b.waitForFunction(() => {
      const img = document.querySelector<HTMLImageElement>("dialog.viewer img.viewer-img");
      return !!img && img.complete && img.naturalWidth === 64;
    }, null, { timeout: 10_000 });
    await b.keyboard.press("Escape");
    await viewer.waitFor({ state: "detached", timeout: 5000 });
    await b.getByRole("button", { name: `View ${name} (` }).click();
    const [download] = await Promise.all([b.waitForEvent("download", { timeout: 10_000 }), b.getByRole("dialog", { name }).getByRole("button", { name: "Download" }).click()]);
    expect(download.suggestedFilename()).toEndWith(`${suffix}.png`);
    await b.keyboard.press("Escape");
    const bytes = readFileSync((await download.path())!);
    expect(bytes.subarray(1, 4).toString("latin1")).toBe("PNG");
    await b.screenshot({ path: `${OUT}/files-image.png` });
  }, 60_000);

  test("a text file arrives as a download button with its name and size; the download keeps the name", async () => {
    const name = `notes-${suffix}.txt`;
    const text = `meeting notes ${suffix}\nline two\n`;
    await a.locator('.composer input[type="file"]').setInputFiles({ name, mimeType: "text/plain", buffer: Buffer.from(text) });
    const link = b.locator(".msg.other .attachment.file", { hasText: name });
    await link.waitFor({ timeout: 30_000 });
    expect(await link.locator(".file-name").textContent()).toBe(name);
    expect(await link.locator(".file-size").textContent()).toBe(`${Buffer.byteLength(text)} B`);
    const [download] = await Promise.all([b.waitForEvent("download", { timeout: 10_000 }), link.click()]);
    expect(download.suggestedFilename()).toBe(name);
    expect(readFileSync((await download.path())!, "utf8")).toBe(text);
    await a.locator(".msg.own .attachment.file", { hasText: name }).waitFor({ timeout: 5000 });
    // The conversation list previews the file by name, not as the stored JSON.
    await b.locator(".conv-preview", { hasText: `📎 ${name}` }).waitFor({ timeout: 10_000 });
    expect(await b.locator(".conv-preview", { hasText: "file_id" }).count()).toBe(0);
    await b.screenshot({ path: `${OUT}/files-text.png` });
  }, 60_000);

  test("a program named .png is refused with the server's reason and posts nothing", async () => {
    const before = await fileMessages(b);
    const elf = Buffer.concat([Buffer.from([0x7f, 0x45, 0x4c, 0x46, 2, 1, 1, 0]), Buffer.alloc(120)]);
    await a.locator('.composer input[type="file"]').setInputFiles({ name: "holiday.png", mimeType: "image/png", buffer: elf });
    const failed = a.locator(".upload.failed", { hasText: "holiday.png" });
    await failed.waitFor({ timeout: 10_000 });
    expect(await failed.locator(".upload-state").textContent()).toStartWith("Unsupported file type");
    expect(await failed.getAttribute("role")).toBe("alert");
    await a.screenshot({ path: `${OUT}/files-refused.png` });
    await failed.getByRole("button", { name: "Dismiss" }).click();
    await failed.waitFor({ state: "detached", timeout: 2000 });
    // Nothing was posted: a plain message sent afterwards is the next thing Bob sees.
    await a.getByLabel("Message", { exact: true }).fill(`after the refusal ${suffix}`);
    await a.keyboard.press("Enter");
    await b.locator(".msg.other .text", { hasText: `after the refusal ${suffix}` }).waitFor({ timeout: 5000 });
    expect(await fileMessages(b)).toBe(before);
  }, 30_000);

  test("an oversized file shows 'File too large'", async () => {
    await a.locator('.composer input[type="file"]').setInputFiles({ name: "big.txt", mimeType: "text/plain", buffer: Buffer.alloc(MAX_UPLOAD * 3, 0x61) });
    const failed = a.locator(".upload.failed", { hasText: "big.txt" });
    await failed.waitFor({ timeout: 10_000 });
    expect(await failed.locator(".upload-state").textContent()).toStartWith("File too large");
  }, 30_000);

  test("a brand-new direct conversation has the attach button; a file can be its first message", async () => {
    const carol = await registerUser(rt.app, "wfc");
    await a.goto(`${rt.base}/#/dm/${carol.user.id}`);
    await a.locator(".pane-sub", { hasText: "new conversation" }).waitFor({ timeout: 5000 });
    await a.getByRole("button", { name: "Attach a file" }).waitFor({ timeout: 2000 });
    const name = `first-${suffix}.txt`;
    // The 202 is held back, so the page moves to the new conversation while the upload is still unanswered.
    await a.route("**/files/upload", async (route) => {
      const response = await route.fetch();
      await Bun.sleep(1500);
      await route.fulfill({ response });
    });
    await a.locator('.composer input[type="file"]').setInputFiles({ name, mimeType: "text/plain", buffer: Buffer.from("hello carol\n") });
    // The server opens the conversation; the page moves to it, the upload still showing, and the file arrives there as seq 1.
    await a.waitForURL(/#\/c\//, { timeout: 10_000 });
    await a.locator(".conversation .upload", { hasText: name }).waitFor({ timeout: 2000 });
    await a.locator(".msg.own .attachment.file", { hasText: name }).waitFor({ timeout: 30_000 });
    await a.locator(".upload").waitFor({ state: "detached", timeout: 5000 });
    await a.unroute("**/files/upload");
    expect(await a.locator(".msg[data-seq]").evaluateAll((els) => els.map((e) => e.getAttribute("data-seq")))).toEqual(["1"]);
    const history = await call(rt.app, "GET", `/chat/history?with=${alice.user.id}`, { token: carol.access_token });
    expect(history.json.messages.map((m: { message_type: string }) => m.message_type)).toEqual(["file"]);
    await a.screenshot({ path: `${OUT}/files-first-in-dm.png` });
  }, 60_000);

  test("no console errors, exceptions or dialogs", () => {
    expect(problems).toEqual([]);
  });
});
