/**
 * The default pack (an online bookstore), embedded in the binary: the JSON is
 * bundled as a module and the dataset and hidden test setups as text imports,
 * so `bun build --compile` carries them and nothing is read from disk at run time.
 */
import packJson from "./packs/default/pack.json";
import dataset from "./packs/default/dataset.sql" with { type: "text" };
import boundary from "./packs/default/tests/boundary.sql" with { type: "text" };
import empty from "./packs/default/tests/empty.sql" with { type: "text" };
import nulls from "./packs/default/tests/nulls.sql" with { type: "text" };
import ties from "./packs/default/tests/ties.sql" with { type: "text" };
import { validatePack, type LoadedPack } from "./pack";

/** Every setup file pack.json names (a missing one fails the import, and the default-pack test). */
const SETUPS: Record<string, string> = {
  "tests/boundary.sql": boundary,
  "tests/empty.sql": empty,
  "tests/nulls.sql": nulls,
  "tests/ties.sql": ties,
};

export function defaultPack(): LoadedPack {
  return { pack: validatePack(structuredClone(packJson)), dataset, setups: { ...SETUPS } };
}
