/**
 * Refusals that must happen before the upload body is read: no token (401)
 * and an exhausted upload bucket (429 with Retry-After). The bodies here
 * never end, so a server that read them would never answer.
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { buildTestApp, call, registerUser, type TestApp } from "../../helpers/app";
import { DEFAULT_BUCKETS } from "../../../src/plugins/rate-limit";
import * as fx from "./fixtures";

describe("upload refusals before the body", () => {
  let t: TestApp;
  let dataDir: string;
  beforeAll(async () => {
    dataDir = mkdtempSync(join(tmpdir(), "huddle-limits-"));
    const buckets = { ...Object.fromEntries(Object.keys(DEFAULT_BUCKETS).map((k) => [k, { capacity: 1000, refillPerSec: 1000 }])), upload: { capacity: 1, refillPerSec: 1 / 60 } };
    t = await buildTestApp("pglite", { config: { DATA_DIR: dataDir }, buckets });
  }, 60_000);
  afterAll(async () => {
    await t?.close();
    rmSync(dataDir, { recursive: true, force: true });
  });

  const endless = () => new ReadableStream<Uint8Array>({ start: (c) => c.enqueue(new TextEncoder().encode("--b\r\n")) });
  const post = (headers: Record<string, string>, body: BodyInit) =>
    t.app.handle(new Request("http://localhost/files/upload", { method: "POST", headers: { "content-type": "multipart/form-data; boundary=b", ...headers }, body }));

  test("no token: 401 without reading the body", async () => {
    const res = await post({}, endless());
    expect(res.status).toBe(401);
    expect(res.headers.get("www-authenticate")).toBe("Bearer");
  }, 10_000);

  test("past the upload rate limit: 429 with Retry-After, without reading the body", async () => {
    const u = await registerUser(t.app, "rl");
    const v = await registerUser(t.app, "rm");
    const conv = (await call(t.app, "POST", "/chat/send", { token: u.access_token, body: { to: v.user.id, content: "hi" } })).json.message.conversation_id;
    const form = new FormData();
    form.set("conversation_id", conv);
    form.set("file", new File([fx.utf8Text()], "a.txt"));
    const auth = { authorization: `Bearer ${u.access_token}` };
    const first = await t.app.handle(new Request("http://localhost/files/upload", { method: "POST", headers: auth, body: form }));
    expect(first.status).toBe(202);
    const second = await post(auth, endless());
    expect(second.status).toBe(429);
    expect(Number(second.headers.get("retry-after"))).toBeGreaterThan(0);
  }, 10_000);
});
