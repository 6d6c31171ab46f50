import { afterAll, describe, expect, test } from "bun:test";
import { mkdtempSync, readdirSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { FsStorage, S3Storage, newStoredName } from "../../../src/modules/files/storage";
import { storageContract } from "./storage.contract";
import { fakeS3 } from "./fake-s3";

const root = mkdtempSync(join(tmpdir(), "huddle-storage-"));
afterAll(() => rmSync(root, { recursive: true, force: true }));

storageContract("filesystem", () => new FsStorage(root));

describe("filesystem storage layout", () => {
  test("objects sit under a two-character fan-out and no temporary file is left behind", async () => {
    const fs = new FsStorage(join(root, "layout"));
    const key = newStoredName();
    await fs.put(key, new Uint8Array([1, 2, 3]), "text/plain");
    expect(readdirSync(join(root, "layout", key.slice(0, 2)))).toEqual([key]);
  });
});

// Bun.S3Client's real requests against a stand-in bucket: catches adapter mistakes (e.g. handing an
// S3File to a Response, which answers with a redirect to a presigned URL instead of the bytes).
const fake = fakeS3();
afterAll(() => fake.stop());
storageContract("S3 adapter, in-process stand-in bucket", () => new S3Storage({ bucket: "huddle", endpoint: fake.endpoint, region: "us-east-1", accessKeyId: "test", secretAccessKey: "test" }));

// There is no S3 server here: the real-S3 variant runs only where S3_* points at a bucket.
const s3 = process.env.S3_BUCKET;
if (s3) {
  storageContract(`S3 bucket ${s3}`, () => new S3Storage({
    bucket: s3, endpoint: process.env.S3_ENDPOINT, region: process.env.S3_REGION,
    accessKeyId: process.env.S3_ACCESS_KEY_ID, secretAccessKey: process.env.S3_SECRET_ACCESS_KEY,
  }));
} else {
  console.error("SKIP: S3 file storage contract: S3_BUCKET (and S3_ENDPOINT, S3_REGION, S3_ACCESS_KEY_ID, S3_SECRET_ACCESS_KEY) not set");
  describe.skip("file storage contract (S3): S3_BUCKET not set", () => {
    test("needs an S3-compatible bucket", () => {});
  });
}
