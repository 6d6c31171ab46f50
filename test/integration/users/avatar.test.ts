/**
 * Avatars and the profile alias through the API on both databases: upload
 * (a 128 px square without the upload's metadata), avatar_url in every user
 * view (profile, search, room members and owner, conversation peer, login),
 * replacing, deleting, and every refusal with its status.
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { mkdtempSync, readdirSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { buildTestApp, call, registerUser, type Driver, type TestApp } from "../../helpers/app";
import { postgresAvailable } from "../../helpers/services";
import * as fx from "../files/fixtures";

type User = Awaited<ReturnType<typeof registerUser>>;
const MAX_UPLOAD = 256 * 1024;

const storedFiles = (dir: string) => {
  try {
    return readdirSync(dir, { recursive: true, withFileTypes: true }).filter((e) => e.isFile()).length;
  } catch {
    return 0;
  }
};

function avatarSuite(driver: Driver) {
  describe(`avatars and profile (${driver})`, () => {
    let t: TestApp;
    let dataDir: string;
    let alice: User, bob: User;

    beforeAll(async () => {
      dataDir = mkdtempSync(join(tmpdir(), "huddle-avatars-"));
      t = await buildTestApp(driver, { config: { DATA_DIR: dataDir, MAX_UPLOAD_BYTES: String(MAX_UPLOAD) } });
      [alice, bob] = [await registerUser(t.app, "av"), await registerUser(t.app, "bv")];
    }, 60_000);
    afterAll(async () => {
      await t?.close();
      rmSync(dataDir, { recursive: true, force: true });
    });

    const put = (user: User | null, file: Blob | null, name = "me.png", headers: Record<string, string> = {}) => {
      const form = new FormData();
      if (file) form.set("file", file, name);
      return t.app.handle(new Request("http://localhost/users/me/avatar", {
        method: "PUT", headers: { ...(user ? { authorization: `Bearer ${user.access_token}` } : {}), ...headers }, body: form,
      }));
    };
    const get = (user: User, path: string) => t.app.handle(new Request(`http://localhost${path}`, { headers: { authorization: `Bearer ${user.access_token}` } }));

    test("a new user has no avatar: avatar_url is null and GET /users/{id}/avatar is 404", async () => {
      const me = await call(t.app, "GET", "/users/me", { token: alice.access_token });
      expect(me.json.avatar_url).toBeNull();
      expect((alice.user as { avatar_url?: unknown }).avatar_url).toBeNull();
      const res = await get(bob, `/users/${alice.user.id}/avatar`);
      expect(res.status).toBe(404);
      expect((await res.json()).error.code).toBe("not_found");
    });

    test("PUT /users/me/avatar stores a 128 px square without the upload's metadata; anyone signed in can fetch it", async () => {
      const png = await fx.pngWithText(400, 300);
      expect(fx.contains(png, fx.SECRET)).toBe(true);
      const res = await put(alice, new File([png], "me.png"));
      expect(res.status).toBe(200);
      const me = await res.json();
      expect(me.id).toBe(alice.user.id);
      expect(me.avatar_url).toMatch(new RegExp(`^/users/${alice.user.id}/avatar\\?v=\\d+$`));
      const img = await get(bob, me.avatar_url);
      expect(img.status).toBe(200);
      expect(img.headers.get("content-type")).toBe("image/png");
      expect(img.headers.get("x-content-type-options")).toBe("nosniff");
      const bytes = new Uint8Array(await img.arrayBuffer());
      expect(await fx.dimensions(bytes)).toEqual({ width: 128, height: 128 });
      expect(fx.contains(bytes, fx.SECRET)).toBe(false);
      expect((await get(alice, `/users/${alice.user.id}/avatar`)).status).toBe(200);
      // Not for anonymous callers.
      expect((await t.app.handle(new Request(`http://localhost/users/${alice.user.id}/avatar`))).status).toBe(401);
    }, 60_000);

    test("JPEG, GIF and WebP become squares too (JPEG stays JPEG, EXIF gone)", async () => {
      const cases: [Uint8Array<ArrayBuffer>, string][] = [
        [await fx.jpegWithExif(200, 500), "image/jpeg"],
        [await fx.animatedGifWithComment(300, 200), "image/png"],
        [await fx.webpWithMetadata(260, 140), "image/png"],
      ];
      for (const [bytes, type] of cases) {
        const res = await put(bob, new File([bytes], "x"));
        expect(res.status).toBe(200);
        const img = await get(alice, (await res.json()).avatar_url);
        expect(img.headers.get("content-type")).toBe(type);
        const out = new Uint8Array(await img.arrayBuffer());
        expect(await fx.dimensions(out)).toEqual({ width: 128, height: 128 });
        expect(fx.contains(out, fx.SECRET)).toBe(false);
      }
    }, 60_000);

    test("avatar_url appears in every user view: profile, search, room owner and members, conversation peer, login", async () => {
      const me = (await call(t.app, "GET", "/users/me", { token: alice.access_token })).json;
      const url = me.avatar_url as string;
      expect(url).toBeString();
      expect((await call(t.app, "GET", `/users/${alice.user.id}`, { token: bob.access_token })).json.avatar_url).toBe(url);
      const found = (await call(t.app, "GET", `/users?search=${alice.username}`, { token: bob.access_token })).json.users;
      expect(found.find((u: { id: string }) => u.id === alice.user.id).avatar_url).toBe(url);
      const room = (await call(t.app, "POST", "/rooms", { token: alice.access_token, body: { name: "faces", members: [bob.user.id] } })).json;
      expect(room.owner.avatar_url).toBe(url);
      const members = (await call(t.app, "GET", `/rooms/${room.id}`, { token: bob.access_token })).json.members;
      expect(members.find((m: { user_id: string }) => m.user_id === alice.user.id).avatar_url).toBe(url);
      await call(t.app, "POST", "/chat/send", { token: bob.access_token, body: { to: alice.user.id, content: "nice face" } });
      const convs = (await call(t.app, "GET", "/chat/conversations", { token: bob.access_token })).json.conversations;
      expect(convs.find((c: { kind: string }) => c.kind === "direct").peer.avatar_url).toBe(url);
      const login = await call(t.app, "POST", "/auth/login", { body: { username: alice.username, password: alice.password } });
      expect(login.json.user.avatar_url).toBe(url);
    });

    test("a new avatar replaces the old one: a new URL, the old bytes are gone from storage", async () => {
      const before = (await call(t.app, "GET", "/users/me", { token: alice.access_token })).json.avatar_url;
      const stored = storedFiles(join(dataDir, "files"));
      await Bun.sleep(2);
      const res = await put(alice, new File([await fx.pngWithText(64, 64)], "again.png"));
      expect(res.status).toBe(200);
      const after = (await res.json()).avatar_url;
      expect(after).not.toBe(before);
      expect(storedFiles(join(dataDir, "files"))).toBe(stored);
    }, 60_000);

    test("DELETE /users/me/avatar removes it: avatar_url null, 404, nothing left in storage", async () => {
      const stored = storedFiles(join(dataDir, "files"));
      const res = await call(t.app, "DELETE", "/users/me/avatar", { token: alice.access_token });
      expect(res.status).toBe(200);
      expect(res.json.avatar_url).toBeNull();
      expect((await get(bob, `/users/${alice.user.id}/avatar`)).status).toBe(404);
      expect(storedFiles(join(dataDir, "files"))).toBe(stored - 1);
      // Deleting again is fine.
      expect((await call(t.app, "DELETE", "/users/me/avatar", { token: alice.access_token })).status).toBe(200);
    });

    test("refusals: not an image 415, undecodable 400, empty 400, no file 400, not multipart 400, too large 413, no token 401", async () => {
      const stored = storedFiles(join(dataDir, "files"));
      const expectError = async (res: Response, status: number) => {
        const body = await res.json();
        expect(res.status, JSON.stringify(body)).toBe(status);
        expect(body.error.message).toBeString();
      };
      await expectError(await put(alice, new File([fx.minimalPdf()], "a.png")), 415);
      await expectError(await put(alice, new File([fx.utf8Text()], "a.png")), 415);
      await expectError(await put(alice, new File([fx.elfBytes()], "a.png")), 415);
      const broken = (await fx.pngWithText(50, 50)).slice(0, 60);
      await expectError(await put(alice, new File([broken], "a.png")), 400);
      await expectError(await put(alice, new File([], "a.png")), 400);
      await expectError(await put(alice, null), 400);
      await expectError(await call(t.app, "PUT", "/users/me/avatar", { token: alice.access_token, body: { file: "x" } }).then((r) => new Response(r.text, { status: r.status })), 400);
      await expectError(await put(alice, new File([new Uint8Array(MAX_UPLOAD + 1)], "big.png")), 413);
      await expectError(await put(null, new File([await fx.pngWithText(20, 20)], "a.png")), 401);
      expect(storedFiles(join(dataDir, "files"))).toBe(stored);
      expect((await call(t.app, "GET", "/users/me", { token: alice.access_token })).json.avatar_url).toBeNull();
      // A malformed id is a user without an avatar.
      expect((await get(bob, "/users/not-a-uuid/avatar")).status).toBe(404);
    }, 60_000);

    test("PUT /users/me is PATCH /users/me: a partial update", async () => {
      const res = await call(t.app, "PUT", "/users/me", { token: bob.access_token, body: { display_name: "Bob V" } });
      expect(res.status).toBe(200);
      expect(res.json.display_name).toBe("Bob V");
      const put2 = await call(t.app, "PUT", "/users/me", { token: bob.access_token, body: { bio: "hi" } });
      expect(put2.json.display_name).toBe("Bob V");
      expect(put2.json.bio).toBe("hi");
      // The same validation as PATCH.
      const bad = await call(t.app, "PUT", "/users/me", { token: bob.access_token, body: { display_name: "" } });
      expect(bad.status).toBe(400);
      expect(bad.json.error.code).toBe((await call(t.app, "PATCH", "/users/me", { token: bob.access_token, body: { display_name: "" } })).json.error.code);
    });
  });
}

avatarSuite("pglite");
if (await postgresAvailable()) avatarSuite("postgres");
else if (process.env.REQUIRE_SERVICES === "1") test("PostgreSQL is required", () => expect("PostgreSQL unreachable").toBe(""));
else test.skip("avatars on PostgreSQL (no PostgreSQL reachable)", () => {});
