// Rolldown set as close as it goes to the esbuild options of edge-node/src/manifest/bundle.rs
// (ESBUILD_ARGS in bench.mjs). ENTRY (relative to the cwd) and OUTFILE (absolute) come from the environment.
export default {
  input: process.env.ENTRY,
  platform: "neutral",
  resolve: {
    conditionNames: ["workerd", "worker", "browser"],
    mainFields: ["workerd", "worker", "browser", "module", "main"],
    extensions: [".tsx", ".ts", ".jsx", ".mjs", ".js", ".cjs", ".json"],
  },
  external: [/^node:/, /^cloudflare:/],
  // rules.rs's default module rules: Text inlined, Data and CompiledWasm copied beside the bundle.
  moduleTypes: { ".txt": "text", ".html": "text", ".sql": "text", ".bin": "copy", ".wasm": "copy" },
  transform: { target: "es2022" },
  logLevel: "warn",
  // esbuild fails on an import it cannot resolve; rolldown warns and leaves it external unless told.
  onLog(level, log, handler) {
    handler(log.code === "UNRESOLVED_IMPORT" ? "error" : level, log);
  },
  output: {
    file: process.env.OUTFILE,
    format: "esm",
    sourcemap: "hidden", // = esbuild's --sourcemap=external: a .map file, no sourceMappingURL comment
    assetFileNames: "[name]-[hash][extname]", // = --asset-names=[name]-[hash]
    keepNames: true,
    charset: "utf8",
    codeSplitting: false,
  },
};
