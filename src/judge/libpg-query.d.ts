// The Emscripten factory inside @pgsql/parser, started directly by pg-ast.ts (which says why).
declare module "@pgsql/parser/wasm/libpg-query.js" {
  const factory: (options: { wasmBinary?: Uint8Array }) => Promise<unknown>;
  export default factory;
}
