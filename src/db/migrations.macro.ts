/**
 * Bun macro: runs when the code is bundled (and when `bun run` transpiles it),
 * reading drizzle-kit's output in migrations/ so the compiled binary carries
 * its migrations with it and needs no folder on disk.
 */
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { createHash } from "node:crypto";

export type EmbeddedMigration = { tag: string; sql: string[]; folderMillis: number; hash: string; bps: boolean };

export function embeddedMigrations(): EmbeddedMigration[] {
  const dir = join(import.meta.dir, "../../migrations");
  const journal = JSON.parse(readFileSync(join(dir, "meta/_journal.json"), "utf8")) as {
    entries: { tag: string; when: number; breakpoints: boolean }[];
  };
  return journal.entries.map((e) => {
    const text = readFileSync(join(dir, `${e.tag}.sql`), "utf8");
    return {
      tag: e.tag,
      sql: text.split("--> statement-breakpoint"),
      folderMillis: e.when,
      hash: createHash("sha256").update(text).digest("hex"),
      bps: e.breakpoints,
    };
  });
}
