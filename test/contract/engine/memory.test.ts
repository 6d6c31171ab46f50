import { describe } from "bun:test";
import { createEngine } from "../../../src/engine";
import { engineContract } from "./engine.contract";

describe("memory engine", () => {
  engineContract({
    create: () => createEngine({}),
    peer: async (engine) => engine,
  });
});
