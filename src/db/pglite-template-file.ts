/**
 * The initdb'd cluster every fresh PGlite starts from (a gzipped dumpDataDir,
 * made by scripts/pglite-template.ts), on its own so that code which only
 * needs the file (the sandbox's snapshot keys) does not load PGlite itself.
 */
import templatePath from "./pglite-template.tar.gz" with { type: "file" };

export function pgliteTemplate(): Blob {
  return Bun.file(templatePath);
}
