/**
 * The FileStorage contract (src/modules/files/storage.ts), run against every
 * implementation: the filesystem always, S3 when S3_* is configured.
 */
import { describe, expect, test } from "bun:test";
import { newStoredName, thumbnailKey, type FileStorage } from "../../../src/modules/files/storage";

export function storageContract(name: string, make: () => FileStorage) {
  describe(`file storage contract (${name})`, () => {
    const storage = make();
    const bytes = (n: number, fill: number) => new Uint8Array(n).fill(fill);

    test("put then read and open return the same bytes", async () => {
      const key = newStoredName();
      await storage.put(key, bytes(1000, 7), "image/png");
      expect(await storage.read(key)).toEqual(bytes(1000, 7));
      const blob = await storage.open(key);
      expect(blob).not.toBeNull();
      expect(new Uint8Array(await new Response(blob!).arrayBuffer())).toEqual(bytes(1000, 7));
      await storage.delete(key);
    }, 30_000);

    test("a missing key reads as null; deleting it is not an error", async () => {
      const key = newStoredName();
      expect(await storage.read(key)).toBeNull();
      expect(await storage.open(key)).toBeNull();
      await storage.delete(key);
    }, 30_000);

    test("put replaces the whole object; delete removes it", async () => {
      const key = newStoredName();
      await storage.put(key, bytes(5000, 1), "text/plain");
      await storage.put(key, bytes(10, 2), "text/plain");
      expect(await storage.read(key)).toEqual(bytes(10, 2));
      await storage.put(thumbnailKey(key), bytes(3, 3), "image/png");
      await storage.delete(key);
      expect(await storage.read(key)).toBeNull();
      expect(await storage.read(thumbnailKey(key))).toEqual(bytes(3, 3));
      await storage.delete(thumbnailKey(key));
    }, 30_000);

    test("keys that are not generated names are refused", async () => {
      for (const bad of ["../../etc/passwd", "a/b", "", "ABCDEF0123456789ABCDEF0123456789", `${newStoredName()}.exe`]) {
        await expect(storage.put(bad, bytes(1, 1), "text/plain")).rejects.toThrow("invalid storage key");
        await expect(storage.read(bad)).rejects.toThrow("invalid storage key");
      }
    }, 30_000);

    test("generated names are unique and carry nothing from the client", () => {
      const names = new Set(Array.from({ length: 1000 }, newStoredName));
      expect(names.size).toBe(1000);
      for (const n of names) expect(n).toMatch(/^[0-9a-f]{32}$/);
    });
  });
}
