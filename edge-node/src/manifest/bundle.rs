//! A worker with npm dependencies, bundled as wrangler bundles it: with the project's own
//! esbuild (`node_modules/.bin/esbuild`, which every wrangler project has through wrangler), on
//! every load of a folder that has a `package.json`.
//!
//! wrangler's options: one ES module for `es2022`, imports resolved from `node_modules` by
//! Node's algorithm with the `package.json` `exports`/`imports` conditions `workerd`, `worker`,
//! `browser` (then esbuild's `import`/`require` and `default`), esbuild's browser platform
//! (a package's `browser` map in `package.json` applies), CommonJS packages wrapped for
//! ESM, JSON imported, TypeScript and JSX compiled, `node:*` and `cloudflare:*` left external,
//! and the worker's module rules (`manifest::rules`, wrangler's defaults included): text
//! inlined as a string, data and WebAssembly copied beside the bundle under a content-hashed
//! name (`m-FV2RY22A.wasm`) and imported from there, whichever module imported them, so the
//! runtime gives an `ArrayBuffer` and a `WebAssembly.Module` as workerd does. The bundle takes
//! the entry's path (`src/index.ts` → `src/index.js`), its source map (`src/index.js.map`,
//! sources relative to the worker's folder) beside it; the sources themselves leave the
//! worker. The same inputs give the same bundle. With Node.js compatibility, the built-ins
//! stay external and CommonJS packages can `require` them (`manifest::node_builtins`).

use std::collections::BTreeMap;
use std::path::Path;
use std::path::PathBuf;
use std::process::Command;
use std::time::Duration;
use std::time::Instant;

use crate::manifest::node_builtins;
use crate::manifest::rules::Rules;

/// The file whose presence makes a worker folder a project to bundle.
pub const PACKAGE_FILE: &str = "package.json";

/// A bundled worker.
#[derive(Debug)]
pub struct Bundled {
  /// The bundle's path in the worker: the entry's, as `.js`.
  pub main: String,
  pub code: Vec<u8>,
  /// Its source map (JSON), the sources relative to the worker's folder.
  pub map: Vec<u8>,
  /// Files the bundle imports that stay modules of their own (data, WebAssembly), by their
  /// path in the worker (beside the bundle).
  pub assets: BTreeMap<String, Vec<u8>>,
  /// What made it: `esbuild 0.25.12`.
  pub bundler: String,
  pub took: Duration,
}

/// Whether the worker folder `root` is bundled before it runs.
pub fn wanted(root: &Path) -> bool {
  root.join(PACKAGE_FILE).is_file()
}

impl Bundled {
  /// Puts the bundle, its map and its assets into a worker's `files`, in place of the sources
  /// and data the bundle took in.
  pub fn replace_sources<T: From<Vec<u8>>>(self, files: &mut BTreeMap<String, T>, rules: &Rules) {
    files.retain(|path, _| !bundled_away(path, rules));
    files.insert(format!("{}.map", self.main), T::from(self.map));
    files.insert(self.main, T::from(self.code));
    for (path, bytes) in self.assets {
      files.insert(path, T::from(bytes));
    }
  }
}

/// Whether `path` is code or data the bundle takes in (and the worker then no longer needs).
fn bundled_away(path: &str, rules: &Rules) -> bool {
  let code = [".js", ".mjs", ".cjs", ".jsx", ".ts", ".mts", ".cts", ".tsx", ".json"];
  code.iter().any(|extension| path.ends_with(extension)) || rules.bundled(path)
}

/// The project's esbuild: in `root`'s `node_modules/.bin`, or a folder's above it (a
/// workspace whose packages share one `node_modules`).
fn esbuild(root: &Path) -> Option<PathBuf> {
  let root = root.canonicalize().ok()?;
  root.ancestors().map(|dir| dir.join("node_modules/.bin/esbuild")).find(|exe| exe.is_file())
}

/// The version of the esbuild at `exe` (`node_modules/.bin/esbuild`): its package's, else
/// what it says when asked.
fn version(exe: &Path) -> Result<String, String> {
  let package = exe.parent().and_then(Path::parent).map(|modules| modules.join("esbuild/package.json"));
  let recorded = package
    .and_then(|path| std::fs::read(path).ok())
    .and_then(|json| serde_json::from_slice::<serde_json::Value>(&json).ok())
    .and_then(|package| package["version"].as_str().map(str::to_owned));
  if let Some(version) = recorded {
    return Ok(version);
  }
  let output =
    Command::new(exe).arg("--version").output().map_err(|e| format!("cannot run {}: {e}", exe.display()))?;
  Ok(String::from_utf8_lossy(&output.stdout).trim().to_owned())
}

/// Bundles the worker at `root` from its entry module `entry` (a path in the folder), with
/// its module rules, for a worker with Node.js compatibility (`nodejs`) or without.
pub fn bundle(root: &Path, entry: &str, rules: &Rules, nodejs: bool) -> Result<Bundled, String> {
  let started = Instant::now();
  let exe = esbuild(root).ok_or_else(|| {
    format!(
      "the worker has a {PACKAGE_FILE}, so it is bundled with the project's esbuild, and there is no node_modules/.bin/esbuild: run `npm install` (a wrangler project has esbuild through wrangler) or `npm install --save-dev esbuild`"
    )
  })?;
  let bundler = format!("esbuild {}", version(&exe)?);
  let out = tempfile::Builder::new()
    .prefix("edge-bundle-")
    .tempdir()
    .map_err(|e| format!("cannot make a folder for the bundle: {e}"))?;
  let outfile = out.path().join("bundle.js");
  // The metafile goes beside the folder the bundle's assets are read from.
  let metafile = out.path().with_extension("meta.json");
  let node = if nodejs { node_builtins::externals() } else { Vec::new() };
  let mut extra = node.clone();
  extra.push(format!("--metafile={}", metafile.display()));
  let output = run(&exe, root, entry, rules, &outfile, &extra)?;
  if !output.status.success() {
    let message = String::from_utf8_lossy(&output.stderr).trim().to_owned();
    let chain = import_chains(&exe, root, entry, rules, &message, &node);
    let hint = match !nodejs && message.contains("built into node") {
      true => "\nNode.js built-ins need Node.js compatibility: compatibility_flags = [\"nodejs_compat\"] in the worker's configuration",
      false => "",
    };
    return Err(format!("{bundler} could not bundle it:\n{message}{chain}{hint}"));
  }
  let mut code = std::fs::read(&outfile).map_err(|e| format!("esbuild wrote no bundle: {e}"))?;
  let mut map = std::fs::read(out.path().join("bundle.js.map"))
    .map_err(|e| format!("esbuild wrote no source map: {e}"))?;
  let meta = std::fs::read(&metafile).map_err(|e| format!("esbuild wrote no metafile: {e}"))?;
  let _ = std::fs::remove_file(&metafile);
  let meta: serde_json::Value =
    serde_json::from_slice(&meta).map_err(|e| format!("esbuild's metafile: {e}"))?;
  if let Some(line) =
    node_builtins::require_line(&meta, edge_runtime::bundle::has_node_module).filter(|_| nodejs)
  {
    (code, map) = node_builtins::prepend(&line, code, &map)?;
  }
  let main = match entry.rsplit_once('.') {
    Some((stem, _)) if !stem.is_empty() && !stem.ends_with('/') => format!("{stem}.js"),
    _ => format!("{entry}.js"),
  };
  let map = rebase(&map, out.path(), root, &main)?;
  let folder = main.rsplit_once('/').map(|(folder, _)| format!("{folder}/")).unwrap_or_default();
  let mut assets = BTreeMap::new();
  for file in std::fs::read_dir(out.path()).map_err(|e| format!("cannot read the bundle's folder: {e}"))? {
    let file = file.map_err(|e| format!("cannot read the bundle's folder: {e}"))?;
    let name = file.file_name().to_string_lossy().into_owned();
    if name != "bundle.js" && name != "bundle.js.map" {
      let bytes = std::fs::read(file.path()).map_err(|e| format!("cannot read {name}: {e}"))?;
      assets.insert(format!("{folder}{name}"), bytes);
    }
  }
  Ok(Bundled { main, code, map, assets, bundler, took: started.elapsed() })
}

/// Runs esbuild on `entry` with wrangler's options, the loaders of `rules` and `extra`.
fn run(
  exe: &Path,
  root: &Path,
  entry: &str,
  rules: &Rules,
  outfile: &Path,
  extra: &[String],
) -> Result<std::process::Output, String> {
  Command::new(exe)
    .current_dir(root)
    .arg(entry)
    .args([
      "--bundle",
      "--format=esm",
      "--target=es2022",
      // esbuild's default, which wrangler keeps: `browser` maps in package.json apply (the
      // AWS SDK picks its fetch-based runtime by one).
      "--platform=browser",
      "--conditions=workerd,worker,browser",
      "--main-fields=workerd,worker,browser,module,main",
      "--resolve-extensions=.tsx,.ts,.jsx,.mjs,.js,.cjs,.json",
      "--external:node:*",
      "--external:cloudflare:*",
      "--asset-names=[name]-[hash]",
      "--sourcemap=external",
      "--keep-names",
      "--charset=utf8",
      "--log-level=error",
      "--color=false",
    ])
    .args(rules.esbuild_loaders())
    .args(extra)
    .arg(format!("--outfile={}", outfile.display()))
    .output()
    .map_err(|e| format!("cannot run {}: {e}", exe.display()))
}

/// For each import esbuild could not resolve (`message`, its errors), the chain of imports
/// from the entry to the module that has it: `\nimport chain: src/index.ts → src/db.ts`.
/// Found by bundling again with those imports left external and reading esbuild's metafile;
/// empty when that fails too or when the entry itself has the import.
fn import_chains(
  exe: &Path,
  root: &Path,
  entry: &str,
  rules: &Rules,
  message: &str,
  node: &[String],
) -> String {
  let mut unresolved = Vec::new();
  let mut lines = message.lines();
  while let Some(line) = lines.next() {
    let Some((_, rest)) = line.split_once("Could not resolve \"") else { continue };
    let Some((specifier, _)) = rest.split_once('"') else { continue };
    // The location follows the error: `    src/db.ts:1:24:`.
    let location = lines.by_ref().map(str::trim).find(|l| !l.is_empty()).unwrap_or("");
    let file = location.split(':').next().unwrap_or("").to_owned();
    unresolved.push((specifier.to_owned(), file));
  }
  if unresolved.is_empty() {
    return String::new();
  }
  let Ok(out) = tempfile::Builder::new().prefix("edge-bundle-").tempdir() else { return String::new() };
  let meta = out.path().join("meta.json");
  let mut extra: Vec<String> = unresolved
    .iter()
    .map(|(specifier, _)| format!("--external:{specifier}"))
    .chain(node.iter().cloned())
    .collect();
  extra.push(format!("--metafile={}", meta.display()));
  let built = run(exe, root, entry, rules, &out.path().join("bundle.js"), &extra);
  let Some(graph) = built
    .ok()
    .filter(|output| output.status.success())
    .and_then(|_| std::fs::read(&meta).ok())
    .and_then(|json| serde_json::from_slice::<serde_json::Value>(&json).ok())
  else {
    return String::new();
  };
  let mut chains = String::new();
  for (_, file) in &unresolved {
    if let Some(chain) = chain(&graph, entry, file).filter(|chain| chain.len() > 1) {
      chains.push_str(&format!("\nimport chain: {}", chain.join(" → ")));
    }
  }
  chains
}

/// The shortest chain of imports from `entry` to `target` in esbuild's metafile `graph`.
fn chain(graph: &serde_json::Value, entry: &str, target: &str) -> Option<Vec<String>> {
  let inputs = graph["inputs"].as_object()?;
  let mut came_from: BTreeMap<String, String> = BTreeMap::new();
  let mut queue = std::collections::VecDeque::from([entry.to_owned()]);
  came_from.insert(entry.to_owned(), String::new());
  while let Some(file) = queue.pop_front() {
    if file == target {
      let mut chain = vec![file];
      while let Some(before) = came_from.get(chain.last()?).filter(|before| !before.is_empty()) {
        chain.push(before.clone());
      }
      chain.reverse();
      return Some(chain);
    }
    let imports = inputs.get(&file).and_then(|input| input["imports"].as_array());
    for import in imports.into_iter().flatten() {
      if let Some(next) = import["path"].as_str().filter(|_| import["external"] != true) {
        if !came_from.contains_key(next) {
          came_from.insert(next.to_owned(), file.clone());
          queue.push_back(next.to_owned());
        }
      }
    }
  }
  None
}

/// The source map with its sources relative to the worker's folder (esbuild writes them
/// relative to where it put the bundle).
fn rebase(map: &[u8], out: &Path, root: &Path, main: &str) -> Result<Vec<u8>, String> {
  let mut json: serde_json::Value =
    serde_json::from_slice(map).map_err(|e| format!("esbuild's source map: {e}"))?;
  let root = root.canonicalize().map_err(|e| format!("{}: {e}", root.display()))?;
  let out = out.canonicalize().map_err(|e| format!("{}: {e}", out.display()))?;
  if let Some(sources) = json.get_mut("sources").and_then(|s| s.as_array_mut()) {
    for source in sources.iter_mut() {
      if let Some(text) = source.as_str() {
        let absolute = normalize(&out.join(text));
        let relative = absolute.strip_prefix(&root).map(Path::to_path_buf).unwrap_or(absolute);
        *source = serde_json::Value::String(relative.to_string_lossy().replace('\\', "/"));
      }
    }
  }
  json["file"] = serde_json::Value::String(main.rsplit('/').next().unwrap_or(main).to_owned());
  serde_json::to_vec(&json).map_err(|e| e.to_string())
}

/// `path` without `.` and `..` parts.
fn normalize(path: &Path) -> PathBuf {
  let mut normal = PathBuf::new();
  for part in path.components() {
    match part {
      std::path::Component::ParentDir => {
        normal.pop();
      }
      std::path::Component::CurDir => {}
      other => normal.push(other),
    }
  }
  normal
}
