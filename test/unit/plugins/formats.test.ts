import { describe, expect, test } from "bun:test";
import { FormatRegistry } from "@sinclair/typebox";
import { isEmail, isUuid } from "../../../src/plugins/formats";
import "../../../src/app";

const UUIDS = [
  "0190a6a4-8a6e-7cc1-9a3b-1f2e3d4c5b6a", "550e8400-e29b-41d4-a716-446655440000", "550E8400-E29B-41D4-A716-446655440000",
  "00000000-0000-0000-0000-000000000000", "ffffffff-ffff-ffff-ffff-ffffffffffff", "FFFFFFFF-FFFF-FFFF-FFFF-FFFFFFFFFFFF",
  "00000000-0000-0000-0000-000000000001", "550e8400-e29b-01d4-a716-446655440000", "550e8400-e29b-91d4-a716-446655440000",
  "550e8400-e29b-41d4-c716-446655440000", "550e8400e29b41d4a716446655440000", "urn:uuid:550e8400-e29b-41d4-a716-446655440000",
  " 550e8400-e29b-41d4-a716-446655440000", "550e8400-e29b-41d4-a716-44665544000g", "", "x",
  "550e8400-e29b-41d4-a716-446655440000\n",
];
const EMAILS = [
  "ada@example.com", "a.b+tag@sub.example.org", "o'hara@example.ie", "x_y-z@ex-ample.co", "A@B.CD", "a@b.c", "a@localhost",
  ".ada@example.com", "ada.@example.com", "ad..a@example.com", "ada'@example.com", "ada@-example.com", "ada@example.c0m",
  "ada@example..com", "ada@.example.com", "ada example@example.com", "ada@exa_mple.com", "@example.com", "ada@", "",
  "ada@example.com\n", "ünï@example.com", "ada@exämple.com", "a-@example.com", "+@example.com",
];

describe("string formats (uuid, email)", () => {
  test("the app's schemas check with these functions, not the ones @elysiajs/openapi installs", () => {
    expect(FormatRegistry.Get("uuid")).toBe(isUuid);
    expect(FormatRegistry.Get("email")).toBe(isEmail);
  });

  test("accept exactly what the functions they replace accept", async () => {
    // A process of its own loads @elysiajs/openapi alone, so its checks are the ones in place there.
    const script = `import "@elysiajs/openapi"; import { FormatRegistry as F } from "@sinclair/typebox";
      const input = JSON.parse(process.argv[1]);
      console.log(JSON.stringify({ uuid: input.uuid.map((v) => F.Get("uuid")(v)), email: input.email.map((v) => F.Get("email")(v)) }));`;
    const child = Bun.spawnSync(["bun", "-e", script, JSON.stringify({ uuid: UUIDS, email: EMAILS })], { cwd: `${import.meta.dir}/../../..` });
    expect(child.stderr.toString()).toBe("");
    const theirs = JSON.parse(child.stdout.toString()) as { uuid: boolean[]; email: boolean[] };
    expect(UUIDS.map(isUuid)).toEqual(theirs.uuid);
    expect(EMAILS.map(isEmail)).toEqual(theirs.email);
  });

  test("a few decisions spelled out", () => {
    expect(isUuid("0190a6a4-8a6e-7cc1-9a3b-1f2e3d4c5b6a")).toBe(true); // Bun.randomUUIDv7's shape
    expect(isUuid("00000000-0000-0000-0000-000000000001")).toBe(false); // version nibble 0
    expect(isEmail("a.b+tag@sub.example.org")).toBe(true);
    expect(isEmail("a@localhost")).toBe(false); // needs a top-level label of 2+ letters
    expect(isEmail("ad..a@example.com")).toBe(false);
  });
});
