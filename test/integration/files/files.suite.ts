/**
 * File uploads end to end through the API: upload (202), the file worker
 * (metadata stripped, thumbnail, SHA-256), the `file` message live on a
 * member's socket, downloads with safe headers, and every refusal.
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { mkdtempSync, readdirSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { count, eq } from "drizzle-orm";
import { files } from "../../../src/db/schema";
import { call, registerUser } from "../../helpers/app";
import { buildTestRuntime, TestSocket, type TestRuntime } from "../../helpers/runtime";
import type { Driver } from "../../helpers/app";
import * as fx from "./fixtures";

export const MAX_UPLOAD = 256 * 1024;
type User = Awaited<ReturnType<typeof registerUser>>;

/** Every regular file below `dir` (the storage root), recursively. */
function storedFiles(dir: string): string[] {
  try {
    return readdirSync(dir, { recursive: true, withFileTypes: true }).filter((e) => e.isFile()).map((e) => join(e.parentPath, e.name));
  } catch {
    return [];
  }
}

export function filesSuite(name: string, driver: Driver, opts: { redisDb?: number } = {}) {
  describe(`files (${name})`, () => {
    let rt: TestRuntime;
    let dataDir: string;
    let alice: User, bob: User, carol: User;
    let conversation: string;

    beforeAll(async () => {
      dataDir = mkdtempSync(join(tmpdir(), "huddle-files-"));
      rt = await buildTestRuntime(driver, {
        redisDb: opts.redisDb, listen: true,
        config: { DATA_DIR: dataDir, MAX_UPLOAD_BYTES: String(MAX_UPLOAD), FILE_WORKER_CONCURRENCY: "1" },
      });
      [alice, bob, carol] = [await registerUser(rt.app, "fa"), await registerUser(rt.app, "fb"), await registerUser(rt.app, "fc")];
      const hi = await call(rt.app, "POST", "/chat/send", { token: alice.access_token, body: { to: bob.user.id, content: "files coming" } });
      conversation = hi.json.message.conversation_id;
    }, 60_000);
    afterAll(async () => {
      await rt?.close();
      rmSync(dataDir, { recursive: true, force: true });
    });

    const upload = (user: User, file: File, conversationId = conversation) => {
      const form = new FormData();
      form.set("conversation_id", conversationId);
      form.set("file", file);
      return rt.app.handle(new Request("http://localhost/files/upload", { method: "POST", headers: { authorization: `Bearer ${user.access_token}` }, body: form }));
    };
    const get = (user: User, path: string) => rt.app.handle(new Request(`http://localhost${path}`, { headers: { authorization: `Bearer ${user.access_token}` } }));

    async function waitDone(user: User, id: string) {
      for (let i = 0; i < 300; i++) {
        const r = await call(rt.app, "GET", `/files/${id}/status`, { token: user.access_token });
        if (r.json?.status === "completed" || r.json?.status === "failed") return r.json;
        await Bun.sleep(100);
      }
      throw new Error(`file ${id} not processed in 30 s`);
    }

    const fileCount = async () => (await rt.database.db.select({ n: count() }).from(files))[0]!.n;

    // First, while nothing was uploaded yet: the storage root and the table must still be empty afterwards.
    test("an oversized file is refused with 413 and neither stored nor recorded", async () => {
      const form = (size: number) => {
        const f = new FormData();
        f.set("conversation_id", conversation);
        f.set("file", new File([new Uint8Array(size).fill(0x41)], "big.txt"));
        return f;
      };
      const auth = { authorization: `Bearer ${alice.access_token}` };
      // 1. Declared Content-Length above the limit: refused before the body is read.
      const declared = await fetch(`${rt.base}/files/upload`, { method: "POST", headers: auth, body: form(MAX_UPLOAD * 2) });
      expect(declared.status).toBe(413);
      // 2. No Content-Length (streamed): cut off while reading.
      const streamed = await rt.app.handle(new Request("http://localhost/files/upload", { method: "POST", headers: auth, body: form(MAX_UPLOAD * 2) }));
      expect(streamed.status).toBe(413);
      // 3. Body within the multipart allowance, the file itself one byte over.
      const justOver = await fetch(`${rt.base}/files/upload`, { method: "POST", headers: auth, body: form(MAX_UPLOAD + 1) });
      expect(justOver.status).toBe(413);
      expect(((await justOver.json()) as { error: { code: string } }).error.code).toBe("payload_too_large");
      expect(await fileCount()).toBe(0);
      expect(storedFiles(join(dataDir, "files"))).toEqual([]);
      // Exactly at the limit it is accepted.
      expect((await fetch(`${rt.base}/files/upload`, { method: "POST", headers: auth, body: form(MAX_UPLOAD) })).status).toBe(202);
    }, 30_000);

    const cases = [
      { label: "PNG", make: fx.pngWithText, name: "photo.png", type: "image/png", inline: true, thumb: "image/png" },
      { label: "JPEG", make: fx.jpegWithExif, name: "holiday.jpg", type: "image/jpeg", inline: true, thumb: "image/jpeg" },
      { label: "GIF (animated)", make: fx.animatedGifWithComment, name: "loop.gif", type: "image/gif", inline: true, thumb: "image/png" },
      { label: "WebP", make: fx.webpWithMetadata, name: "pic.webp", type: "image/webp", inline: true, thumb: "image/png" },
      { label: "PDF", make: async () => fx.minimalPdf(), name: "report.pdf", type: "application/pdf", inline: false, thumb: null },
      { label: "text", make: async () => fx.utf8Text(), name: "notes.txt", type: "text/plain; charset=utf-8", inline: false, thumb: null },
    ];

    for (const c of cases) {
      test(`${c.label}: processed, announced live to members, served with safe headers`, async () => {
        const sock = await TestSocket.connect(`${rt.wsBase}/chat/subscribe?token=${bob.access_token}`);
        await sock.next((f) => f.type === "ready");
        const bytes = await c.make();
        // The client's type is a lie on purpose: only the bytes decide.
        const res = await upload(alice, new File([bytes], c.name, { type: "application/octet-stream" }));
        expect(res.status).toBe(202);
        const accepted = (await res.json()) as { file_id: string; status: string };
        expect(accepted.status).toBe("pending");

        const status = await waitDone(alice, accepted.file_id);
        expect(status).toMatchObject({ status: "completed", error: null, name: c.name, conversation_id: conversation, has_thumbnail: c.thumb !== null });
        expect(status.processed_at).toBeTruthy();

        const frame = await sock.next((f) => f.type === "message" && f.message.message_type === "file" && f.message.content.includes(accepted.file_id), 10_000);
        expect(frame.message.sender_id).toBe(alice.user.id);
        expect(JSON.parse(frame.message.content)).toMatchObject({ file_id: accepted.file_id, name: c.name, size: status.size, has_thumbnail: c.thumb !== null });
        sock.close();

        const file = await get(bob, `/files/${accepted.file_id}`);
        expect(file.status).toBe(200);
        expect(file.headers.get("content-type")).toBe(c.type);
        expect(file.headers.get("x-content-type-options")).toBe("nosniff");
        expect(file.headers.get("content-security-policy")).toContain("sandbox");
        expect(file.headers.get("content-disposition")).toStartWith(c.inline ? "inline;" : "attachment;");
        const stored = new Uint8Array(await file.arrayBuffer());
        expect(stored.length).toBe(status.size);
        expect(new Bun.CryptoHasher("sha256").update(stored).digest("hex")).toBe(status.sha256);
        if (c.thumb) {
          expect(fx.contains(stored, fx.SECRET)).toBe(false);
          const thumb = await get(bob, `/files/${accepted.file_id}/thumbnail`);
          expect(thumb.status).toBe(200);
          expect(thumb.headers.get("content-type")).toBe(c.thumb);
          const dims = await fx.dimensions(new Uint8Array(await thumb.arrayBuffer()));
          expect(Math.max(dims.width, dims.height)).toBe(320);
          expect(dims).toEqual({ width: 320, height: 240 });
          expect({ width: status.width, height: status.height }).toEqual({ width: 400, height: 300 });
        } else {
          expect(stored).toEqual(bytes); // documents are stored as uploaded
          expect((await get(bob, `/files/${accepted.file_id}/thumbnail`)).status).toBe(404);
        }
      }, 60_000);
    }

    test("EXIF is gone from a processed JPEG; an animated GIF keeps its frames and loop", async () => {
      const jpeg = await fx.jpegWithExif();
      expect(fx.contains(jpeg, "Exif")).toBe(true);
      const up = await (await upload(alice, new File([jpeg], "exif.jpg"))).json() as { file_id: string };
      expect((await waitDone(alice, up.file_id)).status).toBe("completed");
      const stored = new Uint8Array(await (await get(alice, `/files/${up.file_id}`)).arrayBuffer());
      expect(stored.subarray(0, 3)).toEqual(Uint8Array.of(0xff, 0xd8, 0xff));
      expect(fx.contains(stored, "Exif")).toBe(false);
      expect(fx.contains(stored, fx.SECRET)).toBe(false);

      const gif = await (await upload(alice, new File([await fx.animatedGifWithComment()], "a.gif"))).json() as { file_id: string };
      expect((await waitDone(alice, gif.file_id)).status).toBe("completed");
      const storedGif = new Uint8Array(await (await get(alice, `/files/${gif.file_id}`)).arrayBuffer());
      const { GifReader } = await import("omggif");
      expect(new GifReader(Buffer.from(storedGif)).numFrames()).toBe(2);
      expect(fx.contains(storedGif, "NETSCAPE2.0")).toBe(true);
      expect(fx.contains(storedGif, "XMP DataXMP")).toBe(false);
    }, 60_000);

    test("a renamed executable is refused with 415 and nothing is stored", async () => {
      const before = await fileCount();
      const res = await upload(alice, new File([fx.elfBytes()], "x.png", { type: "image/png" }));
      expect(res.status).toBe(415);
      expect(((await res.json()) as { error: { code: string } }).error.code).toBe("unsupported_media_type");
      expect(await fileCount()).toBe(before);
    }, 30_000);

    test("non-members get 404 on status, file and thumbnail; malformed ids are 404 too", async () => {
      const up = await (await upload(alice, new File([await fx.pngWithText(40, 30)], "p.png"))).json() as { file_id: string };
      expect((await waitDone(alice, up.file_id)).status).toBe("completed");
      for (const path of [`/files/${up.file_id}/status`, `/files/${up.file_id}`, `/files/${up.file_id}/thumbnail`]) {
        expect((await get(carol, path)).status).toBe(404);
        expect((await get(bob, path)).status).toBe(200);
      }
      for (const bad of ["nope", "1' or '1'='1", "00000000-0000-0000-0000-000000000000", "..%2f..%2fetc%2fpasswd", "f".repeat(500)]) {
        expect((await get(alice, `/files/${bad}/status`)).status).toBe(404);
        expect((await get(alice, `/files/${bad}`)).status).toBe(404);
      }
      // Uploading into someone else's conversation is 404 as well, and stores nothing.
      expect((await upload(carol, new File([fx.utf8Text()], "x.txt"))).status).toBe(404);
      expect((await call(rt.app, "GET", `/files/${up.file_id}`)).status).toBe(401);
    }, 30_000);

    test("malformed or incomplete uploads are 400, never 500", async () => {
      const auth = { authorization: `Bearer ${alice.access_token}` };
      const post = (headers: Record<string, string>, body: BodyInit) => rt.app.handle(new Request("http://localhost/files/upload", { method: "POST", headers: { ...auth, ...headers }, body }));
      expect((await post({ "content-type": "multipart/form-data; boundary=zzz" }, "--zzz\r\ngarbage without end")).status).toBe(400);
      expect((await post({ "content-type": "application/json" }, JSON.stringify({ conversation_id: conversation }))).status).toBe(400);
      const noFile = new FormData();
      noFile.set("conversation_id", conversation);
      expect((await post({}, noFile)).status).toBe(400);
      const notUuid = new FormData();
      notUuid.set("conversation_id", "not-a-uuid");
      notUuid.set("file", new File([fx.utf8Text()], "a.txt"));
      expect((await post({}, notUuid)).status).toBe(400);
      const empty = new FormData();
      empty.set("conversation_id", conversation);
      empty.set("file", new File([], "empty.txt"));
      expect((await post({}, empty)).status).toBe(400);
      expect((await rt.app.handle(new Request("http://localhost/files/upload", { method: "POST", body: noFile }))).status).toBe(401);
    }, 30_000);

    test("`to` instead of conversation_id: a file can open a direct conversation", async () => {
      const dave = await registerUser(rt.app, "fd");
      const post = (fields: Record<string, string>, file: File) => {
        const form = new FormData();
        for (const [k, v] of Object.entries(fields)) form.set(k, v);
        form.set("file", file);
        return rt.app.handle(new Request("http://localhost/files/upload", { method: "POST", headers: { authorization: `Bearer ${carol.access_token}` }, body: form }));
      };
      const history = () => call(rt.app, "GET", `/chat/history?with=${carol.user.id}`, { token: dave.access_token });
      // A refused file opens nothing; naming both targets is a 400.
      expect((await post({ to: dave.user.id }, new File([new Uint8Array([0x7f, 0x45, 0x4c, 0x46, 2, 1, 1, 0])], "x.png"))).status).toBe(415);
      expect((await history()).status).toBe(404);
      expect((await post({ to: dave.user.id, conversation_id: conversation }, new File([fx.utf8Text()], "x.txt"))).status).toBe(400);
      const res = await post({ to: dave.user.id }, new File([fx.utf8Text()], "first.txt"));
      expect(res.status).toBe(202);
      const up = (await res.json()) as { file_id: string; conversation_id: string };
      expect((await waitDone(carol, up.file_id)).conversation_id).toBe(up.conversation_id);
      for (let i = 0; i < 50 && (await history()).json?.messages?.length !== 1; i++) await Bun.sleep(100);
      const h = (await history()).json;
      expect(h.conversation_id).toBe(up.conversation_id);
      expect(h.messages.map((m: { message_type: string; sender_id: string }) => [m.message_type, m.sender_id])).toEqual([["file", carol.user.id]]);
    }, 30_000);

    test("names are for display only: non-ASCII via filename*, no header injection", async () => {
      // FormData sends `"`, CR and LF as %22, %0D, %0A (as browsers do); the path and the bidi override are dropped here.
      const evil = 'évil "quote"\r\nSet-Cookie: x=1;\u202Etxt.exe';
      const up = await (await upload(alice, new File([fx.utf8Text()], `C:\\fakepath\\${evil}`))).json() as { file_id: string };
      const status = await waitDone(alice, up.file_id);
      expect(status.name).toBe("évil %22quote%22%0D%0ASet-Cookie: x=1;txt.exe");
      const res = await get(alice, `/files/${up.file_id}`);
      expect(res.headers.get("set-cookie")).toBeNull();
      const cd = res.headers.get("content-disposition")!;
      expect(cd).toBe(`attachment; filename="_vil %22quote%22%0D%0ASet-Cookie: x=1;txt.exe"; filename*=UTF-8''%C3%A9vil%20%2522quote%2522%250D%250ASet-Cookie%3A%20x%3D1%3Btxt.exe`);
      expect(decodeURIComponent(cd.split("''")[1]!)).toBe(status.name);
    }, 30_000);

    test("an image that does not decode ends failed with a reason, and its bytes are deleted", async () => {
      const broken = fx.concat((await fx.pngWithText(40, 30)).subarray(0, 40), new Uint8Array(200).fill(7));
      const up = await (await upload(alice, new File([broken], "broken.png"))).json() as { file_id: string };
      const status = await waitDone(alice, up.file_id);
      expect(status.status).toBe("failed");
      expect(status.error).toBeTruthy();
      expect((await get(alice, `/files/${up.file_id}`)).status).toBe(404);
      const [row] = await rt.database.db.select().from(files).where(eq(files.id, up.file_id));
      expect(storedFiles(join(dataDir, "files")).some((p) => p.includes(row!.storedName))).toBe(false);
    }, 30_000);
  });
}
