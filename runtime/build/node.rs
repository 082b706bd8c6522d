//! Bundles the `node:*` modules of Node compatibility (`node/src/*.mjs`, over the npm
//! packages `node/package.json` pins, which `.ci/setup` installs) with the esbuild binary
//! those packages include, and writes `node_sources.rs`: a table of (specifier, source),
//! sorted by specifier, that the runtime gives deno_core as lazily loaded ES modules. Nothing
//! in it is evaluated until a worker imports it (and none is in the snapshot).
//!
//! `src/<name>.mjs` becomes `node:<name>` (a `-` in the name stands for `/`:
//! `path-posix.mjs` is `node:path/posix`, `internal-globals.mjs` is `node:internal/globals`),
//! except `src/cloudflare-<name>.mjs`, which is `cloudflare:<name>` (every worker has those);
//! the chunks esbuild splits off (code shared by several modules, such as the buffer
//! package) are `ext:edge_node/…`, which deno_core lets only `node:` and `ext:` modules import.

use std::fmt::Write as _;
use std::path::Path;
use std::process::Command;

/// The folder, under `OUT_DIR`, esbuild writes the modules to.
const OUT: &str = "node";

pub fn build(manifest_dir: &Path, out_dir: &Path) {
  let root = manifest_dir.join("node");
  println!("cargo:rerun-if-changed={}", root.join("src").display());
  println!("cargo:rerun-if-changed={}", root.join("shims").display());
  println!("cargo:rerun-if-changed={}", root.join("package-lock.json").display());
  let esbuild = root.join("node_modules/.bin/esbuild");
  if !esbuild.exists() {
    panic!(
      "{} is missing: the npm packages of runtime/node are not installed (run `bash .ci/setup`, \
       or `npm ci` in runtime/node)",
      esbuild.display()
    );
  }
  let mut entries: Vec<String> = std::fs::read_dir(root.join("src"))
    .expect("read runtime/node/src")
    .filter_map(|entry| entry.ok()?.file_name().into_string().ok())
    .filter(|name| name.ends_with(".mjs"))
    .collect();
  entries.sort();
  let out = out_dir.join(OUT);
  let _ = std::fs::remove_dir_all(&out);
  let status = Command::new(&esbuild)
    .current_dir(&root)
    .args(entries.iter().map(|name| format!("src/{name}")))
    .args([
      "--bundle",
      "--splitting",
      "--format=esm",
      "--platform=browser",
      "--target=es2022",
      "--chunk-names=chunk-[hash]",
      // Imports between the files name them absolutely: an `ext:` URL is no base for `./`.
      "--public-path=ext:edge_node/",
      "--external:node:*",
      "--external:cloudflare:*",
      "--external:ext:*",
      // What the packages require of Node, from the worker's own (shims/).
      "--alias:process=./shims/process.cjs",
      "--alias:abort-controller=./shims/abort-controller.cjs",
      // The packages' licence notices stay with their code.
      "--legal-comments=eof",
      // Not --minify-whitespace: QuickJS parses a long line far more slowly (the buffer
      // package on one line took 34 ms to evaluate instead of 4.3, benches/RESULTS.md).
      "--out-extension:.js=.js",
      "--log-level=warning",
    ])
    .arg(format!("--outdir={}", out.display()))
    .status()
    .unwrap_or_else(|e| panic!("cannot run {}: {e}", esbuild.display()));
  assert!(status.success(), "esbuild failed to bundle runtime/node/src ({status})");

  let mut modules: Vec<(String, String)> = std::fs::read_dir(&out)
    .expect("read the bundled node modules")
    .filter_map(|entry| entry.ok()?.file_name().into_string().ok())
    .filter_map(|file| {
      let name = file.strip_suffix(".js")?;
      let specifier = match name {
        _ if name.starts_with("chunk-") => format!("ext:edge_node/{file}"),
        _ => match name.strip_prefix("cloudflare-") {
          Some(name) => format!("cloudflare:{name}"),
          None => format!("node:{}", name.replace('-', "/")),
        },
      };
      let source = std::fs::read_to_string(out.join(&file)).expect("read a bundled node module");
      Some((specifier, source))
    })
    .collect();
  // deno_core finds an entry by binary search.
  modules.sort();
  let mut table = String::from("&[\n");
  for (specifier, source) in &modules {
    writeln!(table, "  ({specifier:?}, {source:?}),").unwrap();
  }
  table.push(']');
  std::fs::write(out_dir.join("node_sources.rs"), table).expect("write node_sources.rs");
}
