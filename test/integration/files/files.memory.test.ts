import { filesSuite } from "./files.suite";

filesSuite("PGlite + memory engine", "pglite");
