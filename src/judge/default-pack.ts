/**
 * The default pack (an online bookstore), embedded in the binary: the JSON is
 * bundled as a module and the dataset as a text import, so `bun build
 * --compile` carries both and nothing is read from disk at run time.
 */
import packJson from "./packs/default/pack.json";
import dataset from "./packs/default/dataset.sql" with { type: "text" };
import { validatePack, type LoadedPack } from "./pack";

export function defaultPack(): LoadedPack {
  return { pack: validatePack(structuredClone(packJson)), dataset };
}
