/**
 * Unpacks a PGlite data-directory dump (a plain ustar archive of files and
 * directories, paths relative to the data directory) straight onto disk.
 * Faster and far lighter than handing it to PGlite's loadDataDir, which
 * pushes every byte through its in-WASM file system (a fresh DATA_DIR went
 * from about 1 s and a 350 MB peak to about 0.2 s this way).
 */
import { mkdirSync, writeFileSync } from "node:fs";
import { dirname, join, normalize } from "node:path";

const text = (b: Uint8Array, from: number, len: number) => {
  const slice = b.subarray(from, from + len);
  const end = slice.indexOf(0);
  return new TextDecoder().decode(end < 0 ? slice : slice.subarray(0, end));
};

export function untarInto(dir: string, tar: Uint8Array): void {
  let at = 0;
  while (at + 512 <= tar.length) {
    const name = text(tar, at, 100);
    if (!name) break; // the two zero blocks that end the archive
    const prefix = text(tar, at + 345, 155);
    const size = parseInt(text(tar, at + 124, 12).trim() || "0", 8);
    const type = String.fromCharCode(tar[at + 156]!);
    const rel = normalize(prefix ? `${prefix}/${name}` : name).replace(/^(\.\.(\/|$)|\/)+/, "");
    const path = join(dir, rel);
    if (type === "5") mkdirSync(path, { recursive: true, mode: 0o700 });
    else if (type === "0" || type === "\0") {
      mkdirSync(dirname(path), { recursive: true, mode: 0o700 });
      writeFileSync(path, tar.subarray(at + 512, at + 512 + size), { mode: 0o600 });
    } else throw new Error(`unexpected entry type "${type}" for ${rel} in a PGlite dump`);
    at += 512 + Math.ceil(size / 512) * 512;
  }
}
