/**
 * The per-user cap on open uploads (PGlite, and PostgreSQL when it is there,
 * with the memory engine and no file workers, so uploads stay pending): MAX_PENDING_UPLOADS waiting or processing per
 * user, more get 429 with Retry-After (before the body is read), also when
 * sent all at once; nothing of a refused upload is kept; other users are not
 * affected; a finished file makes room again.
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { mkdtempSync, readdirSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { buildTestApp, call, registerUser, testConfig, type Driver, type TestApp } from "../helpers/app";
import { postgresAvailable } from "../helpers/services";
import { countRows, expectErrorShape, metric } from "./fixture";

const CAP = 3;
const drivers: Driver[] = (await postgresAvailable()) ? ["pglite", "postgres"] : ["pglite"];

test("MAX_PENDING_UPLOADS defaults to 5", () => {
  expect(testConfig().MAX_PENDING_UPLOADS).toBe(5);
});

for (const driver of drivers) describe(`open uploads per user (${driver})`, () => {
  let t: TestApp;
  let dataDir: string;
  beforeAll(async () => {
    dataDir = mkdtempSync(join(tmpdir(), "huddle-pending-"));
    t = await buildTestApp(driver, { config: { DATA_DIR: dataDir, MAX_PENDING_UPLOADS: String(CAP), FILE_WORKER_CONCURRENCY: "0" } });
  }, 60_000);
  afterAll(async () => {
    await t?.close();
    rmSync(dataDir, { recursive: true, force: true });
  });

  const stored = () => readdirSync(join(dataDir, "files"), { recursive: true, withFileTypes: true }).filter((e) => e.isFile()).length;
  async function twoUsers() {
    const u = await registerUser(t.app, "pu");
    const v = await registerUser(t.app, "pv");
    const conv = (await call(t.app, "POST", "/chat/send", { token: u.access_token, body: { to: v.user.id, content: "files" } })).json.message.conversation_id as string;
    return { u, v, conv };
  }
  const upload = (token: string, conv: string, body?: BodyInit) => {
    const form = new FormData();
    form.set("conversation_id", conv);
    form.set("file", new File([`notes ${Math.random()}\n`], "n.txt"));
    const headers: Record<string, string> = { authorization: `Bearer ${token}` };
    if (body) headers["content-type"] = "multipart/form-data; boundary=b";
    return t.app.handle(new Request("http://localhost/files/upload", { method: "POST", headers, body: body ?? form }));
  };
  async function expect429(res: Response, what: string) {
    const text = await res.text();
    const shaped = { status: res.status, headers: res.headers, text, json: JSON.parse(text) };
    expect(res.status, `${what}: ${text}`).toBe(429);
    expectErrorShape(shaped, what);
    expect(shaped.json.error.message).toContain(`at most ${CAP}`);
  }

  test("past the cap: 429 with Retry-After, nothing stored or recorded; other users unaffected; a finished file makes room", async () => {
    const { u, v, conv } = await twoUsers();
    const before = await metric(t.app, "huddle_rate_limited_total", { scope: "pending-uploads" });
    const ids: string[] = [];
    for (let i = 0; i < CAP; i++) {
      const res = await upload(u.access_token, conv);
      expect(res.status).toBe(202);
      ids.push(((await res.json()) as { file_id: string }).file_id);
    }
    const [rows, files] = [await countRows(t.database, "files"), stored()];
    await expect429(await upload(u.access_token, conv), "over the cap");
    // At the cap the body is not even read: this one never ends.
    const endless = new ReadableStream<Uint8Array>({ start: (c) => c.enqueue(new TextEncoder().encode("--b\r\n")) });
    await expect429(await upload(u.access_token, conv, endless), "endless body at the cap");
    expect(await countRows(t.database, "files")).toBe(rows);
    expect(stored()).toBe(files);
    expect(await metric(t.app, "huddle_rate_limited_total", { scope: "pending-uploads" })).toBe(before + 2);
    expect((await upload(v.access_token, conv)).status).toBe(202);
    await t.services.fileJobs.giveUp({ id: ids[0]! });
    expect((await upload(u.access_token, conv)).status).toBe(202);
    await expect429(await upload(u.access_token, conv), "full again");
  }, 30_000);

  test("uploads sent all at once cannot overshoot the cap", async () => {
    const { u, conv } = await twoUsers();
    const statuses = (await Promise.all(Array.from({ length: 8 }, () => upload(u.access_token, conv)))).map((r) => r.status).sort();
    expect(statuses).toEqual([...Array(CAP).fill(202), ...Array(8 - CAP).fill(429)]);
  }, 30_000);
});
