import { defineConfig } from "drizzle-kit";

// `bun run db:generate` writes SQL migrations into migrations/ from src/db/schema.ts.
export default defineConfig({
  dialect: "postgresql",
  schema: "./src/db/schema.ts",
  out: "./migrations",
});
