// Files imported `with { type: "file" }` resolve to a path (embedded in the compiled binary).
declare module "*.wasm" { const path: string; export default path; }
declare module "*.data" { const path: string; export default path; }
declare module "*.css" { const path: string; export default path; }
declare module "*.sql" { const path: string; export default path; }
declare module "*.png" { const path: string; export default path; }
declare module "*.tar.gz" { const path: string; export default path; }
