// Loaded before every test file (bunfig.toml). Keeps test logs quiet unless asked, and
// gives tests that start real servers, browsers or PGlite instances room (default 5 s).
import { setDefaultTimeout } from "bun:test";

process.env.LOG_LEVEL ??= "silent";
setDefaultTimeout(30_000);
