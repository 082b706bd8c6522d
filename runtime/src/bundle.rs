//! A worker's code in memory, and the module loader that serves imports from it.
//!
//! Modules live under the URL `worker:///<path>`; an import resolves relative to its
//! importer and must land inside the bundle. Nothing is read from disk or the network at
//! import time: the node reads (or receives) the bundle before the isolate starts.
//!
//! Like Cloudflare's Workers, a non-JavaScript sibling module is importable by its
//! extension, as the bundle's [`ModuleRules`] say (wrangler's module rules): by default
//! `.json` gives the parsed value, `.txt`/`.html`/`.sql` a string, `.wasm` (also imported as
//! `.wasm?module`) a compiled `WebAssembly.Module`, `.bin` an `ArrayBuffer`. A `.ts`/`.mts`
//! module is JavaScript whose types the caller has already stripped (edge-node does, keeping
//! every line where it was).
//!
//! A bundle whose entry module is a `.wasm` file is a pure WebAssembly worker: its entry
//! becomes `js/wasm_worker.js`, which adapts the WASM worker ABI to a fetch handler.
//!
//! With Node.js compatibility on, `node:<name>` (and the bare `<name>`) of the built-in
//! modules this build has (`startup::NODE_MODULES`) resolve to them; deno_core serves those
//! from their embedded sources itself. Cloudflare's `cloudflare:sockets` is one of them too,
//! and resolves for every worker. Those modules, and only they, may import the
//! embedder's `ext:` modules. Anything refused resolves to a `refused:` URL whose loading
//! fails with the reason: an error from `resolve` would let deno_core fall back to a lazily
//! loaded module of the same name.

use std::collections::BTreeMap;
use std::sync::Arc;

use deno_core::error::ModuleLoaderError;
use deno_core::ModuleLoadOptions;
use deno_core::ModuleLoadReferrer;
use deno_core::ModuleLoadResponse;
use deno_core::ModuleLoader;
use deno_core::ModuleSource;
use deno_core::ModuleSourceCode;
use deno_core::ModuleSpecifier;
use deno_core::ModuleType;
use deno_core::RequestedModuleType;
use deno_core::ResolutionKind;
use deno_error::JsErrorBox;

/// The URL prefix of every module of a worker.
pub const MODULE_ROOT: &str = "worker:///";

/// The scheme of a refused import: its loading fails with the reason, its path.
const REFUSED: &str = "refused:";

/// The path of the generated entry module of a pure WebAssembly worker.
const WASM_ENTRY: &str = "__wasm_worker__.js";
const WASM_ENTRY_SOURCE: &str = include_str!("../js/wasm_worker.js");

/// Every module of one worker, keyed by `/`-separated path relative to the worker's root.
#[derive(Clone, Debug)]
pub struct WorkerBundle {
  /// The worker's name, used in logs.
  pub name: String,
  /// Path of the entry module within `modules` (for example `worker.js`).
  pub main: String,
  /// Module sources by relative path.
  pub modules: Arc<BTreeMap<String, Arc<[u8]>>>,
  /// What each module is, by its extension.
  pub rules: Arc<ModuleRules>,
}

/// What a module is, and so what importing it gives.
#[derive(Clone, Copy, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub enum ModuleKind {
  /// An ES module.
  JavaScript,
  /// JSON: its parsed value is the default export.
  Json,
  /// UTF-8 text: a string is the default export.
  Text,
  /// Bytes: an `ArrayBuffer` is the default export.
  Data,
  /// WebAssembly: a compiled `WebAssembly.Module` is the default export.
  CompiledWasm,
}

/// Module kinds by file extension (lowercase, without the dot): the defaults, with a
/// worker's own rules over them.
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct ModuleRules(BTreeMap<String, ModuleKind>);

impl Default for ModuleRules {
  fn default() -> ModuleRules {
    use ModuleKind::*;
    let defaults = [
      ("js", JavaScript),
      ("mjs", JavaScript),
      ("ts", JavaScript),
      ("mts", JavaScript),
      ("json", Json),
      ("txt", Text),
      ("html", Text),
      ("sql", Text),
      ("text", Text),
      ("md", Text),
      ("css", Text),
      ("svg", Text),
      ("wasm", CompiledWasm),
      ("bin", Data),
    ];
    ModuleRules(defaults.into_iter().map(|(extension, kind)| (extension.to_owned(), kind)).collect())
  }
}

impl ModuleRules {
  /// The defaults with `overrides` (extension, kind) over them.
  pub fn with(overrides: impl IntoIterator<Item = (String, ModuleKind)>) -> ModuleRules {
    let mut rules = ModuleRules::default();
    for (extension, kind) in overrides {
      rules.0.insert(extension.to_ascii_lowercase(), kind);
    }
    rules
  }

  /// The kind of the module at `path`, if its extension has one.
  pub fn kind(&self, path: &str) -> Option<ModuleKind> {
    let name = path.rsplit('/').next().unwrap_or(path);
    let (_, extension) = name.rsplit_once('.')?;
    self.0.get(&extension.to_ascii_lowercase()).copied()
  }

  /// The extensions with a kind, and their kinds.
  pub fn iter(&self) -> impl Iterator<Item = (&str, ModuleKind)> {
    self.0.iter().map(|(extension, kind)| (extension.as_str(), *kind))
  }
}

impl WorkerBundle {
  /// The URL of the entry module.
  pub fn main_url(&self) -> ModuleSpecifier {
    if self.is_wasm() {
      module_url(WASM_ENTRY)
    } else {
      module_url(&self.main)
    }
  }

  /// True for a pure WebAssembly worker.
  pub fn is_wasm(&self) -> bool {
    self.main.ends_with(".wasm")
  }

  /// The loader of this bundle's modules.
  /// Its loader; `nodejs`: whether Node.js compatibility is on.
  pub(crate) fn loader(&self, nodejs: bool) -> BundleLoader {
    BundleLoader {
      modules: self.modules.clone(),
      rules: self.rules.clone(),
      wasm_main: self.is_wasm().then(|| self.main.clone()),
      nodejs,
      refusals: Default::default(),
    }
  }
}

fn module_url(path: &str) -> ModuleSpecifier {
  ModuleSpecifier::parse(&format!("{MODULE_ROOT}{path}")).expect("a path under worker:/// is a URL")
}

/// Serves imports from a [`WorkerBundle`].
pub(crate) struct BundleLoader {
  modules: Arc<BTreeMap<String, Arc<[u8]>>>,
  rules: Arc<ModuleRules>,
  /// The `.wasm` entry of a pure WebAssembly worker.
  wasm_main: Option<String>,
  /// Whether `node:*` modules resolve.
  nodejs: bool,
  /// The reasons of refused imports; `refused:<n>` names the n-th.
  refusals: std::cell::RefCell<Vec<String>>,
}

/// Whether `referrer` is one of the built-in modules (which may import the embedder's), or
/// the embedder itself (deno_core's referrer of a module the isolate loads, `.`).
fn is_builtin(referrer: &str) -> bool {
  referrer.starts_with("node:")
    || referrer.starts_with("cloudflare:")
    || referrer.starts_with("ext:")
    || referrer == "."
}

impl BundleLoader {
  fn source(
    &self,
    url: &ModuleSpecifier,
    requested: &RequestedModuleType,
  ) -> Result<ModuleSource, JsErrorBox> {
    // A built-in module the loader resolved (deno_core serves most of them from its lazy
    // sources itself, but not a module the isolate loads on its own).
    if let Some(source) = crate::startup::node_module(url.as_str()) {
      return Ok(ModuleSource::new(
        ModuleType::JavaScript,
        ModuleSourceCode::String(source.to_owned().into()),
        url,
        None,
      ));
    }
    if let Some(n) = url.as_str().strip_prefix(REFUSED) {
      let reason = n.parse::<usize>().ok().and_then(|n| self.refusals.borrow().get(n).cloned());
      return Err(JsErrorBox::type_error(reason.unwrap_or_else(|| format!("cannot import {url}"))));
    }
    let path = url.as_str().strip_prefix(MODULE_ROOT).ok_or_else(|| {
      JsErrorBox::type_error(format!(
        "cannot import {url}: only modules of the worker itself can be imported"
      ))
    })?;
    if let (WASM_ENTRY, Some(main)) = (path, &self.wasm_main) {
      let code = WASM_ENTRY_SOURCE.replace("__MAIN__", main);
      return Ok(ModuleSource::new(ModuleType::JavaScript, ModuleSourceCode::String(code.into()), url, None));
    }
    // `import m from "./m.wasm?module"` names the module `m.wasm`, as on Cloudflare.
    let path = path.split_once('?').map_or(path, |(path, _)| path);
    let bytes = self
      .modules
      .get(path)
      .ok_or_else(|| JsErrorBox::type_error(format!("cannot import {path}: no such module in the worker")))?;
    let text = || {
      std::str::from_utf8(bytes)
        .map(str::to_owned)
        .map_err(|_| JsErrorBox::type_error(format!("module {path} is not valid UTF-8")))
    };
    if let RequestedModuleType::Json = requested {
      return Ok(ModuleSource::new(ModuleType::Json, ModuleSourceCode::String(text()?.into()), url, None));
    }
    let (module_type, code) = match self.rules.kind(path) {
      // TypeScript arrives with its types already stripped (edge-node does it on load).
      Some(ModuleKind::JavaScript) => (ModuleType::JavaScript, text()?),
      Some(ModuleKind::Json) => {
        let value: serde_json::Value = serde_json::from_str(&text()?)
          .map_err(|e| JsErrorBox::new("SyntaxError", format!("module {path} is not valid JSON: {e}")))?;
        (ModuleType::JavaScript, format!("export default {value};"))
      }
      Some(ModuleKind::Text) => {
        (ModuleType::JavaScript, format!("export default {};", serde_json::Value::String(text()?)))
      }
      Some(ModuleKind::CompiledWasm) => (
        ModuleType::JavaScript,
        format!("export default new WebAssembly.Module(new Uint8Array({:?}));", &bytes[..]),
      ),
      Some(ModuleKind::Data) => {
        (ModuleType::JavaScript, format!("export default new Uint8Array({:?}).buffer;", &bytes[..]))
      }
      None => {
        let known: Vec<String> = self.rules.iter().map(|(extension, _)| format!(".{extension}")).collect();
        return Err(JsErrorBox::type_error(format!(
          "cannot import {path}: unsupported module type (use {}, or a module rule for its extension)",
          known.join(", ")
        )));
      }
    };
    Ok(ModuleSource::new(module_type, ModuleSourceCode::String(code.into()), url, None))
  }
}

impl BundleLoader {
  /// An import refused with `reason` (see the module's documentation).
  fn refused(&self, reason: String) -> ModuleSpecifier {
    let mut refusals = self.refusals.borrow_mut();
    refusals.push(reason);
    ModuleSpecifier::parse(&format!("{REFUSED}{}", refusals.len() - 1)).expect("a valid URL")
  }

  /// Where an import of a built-in module (`node:*`, or `ext:*` from a built-in) goes, or
  /// `None` for any other import.
  fn resolve_builtin(&self, specifier: &str, referrer: &str) -> Option<ModuleSpecifier> {
    if specifier.starts_with("ext:") {
      return Some(match is_builtin(referrer) {
        true => ModuleSpecifier::parse(specifier).ok()?,
        false => {
          self.refused(format!("cannot import {specifier:?} from {referrer}: it is internal to the runtime"))
        }
      });
    }
    if specifier.starts_with("cloudflare:") {
      // Cloudflare's own modules: every worker has those this runtime has.
      return Some(match crate::startup::is_node_module(specifier) {
        true => ModuleSpecifier::parse(specifier).ok()?,
        false => self.refused(format!(
          "cannot import {specifier:?} from {referrer}: this runtime has no module {specifier:?} (it has cloudflare:sockets)"
        )),
      });
    }
    let (name, prefixed) = match specifier.strip_prefix("node:") {
      Some(name) => (name, true),
      None => (specifier, false),
    };
    let node = format!("node:{name}");
    let known = crate::startup::is_node_module(&node);
    if !prefixed && !known {
      // A bare name that is no built-in: an ordinary import (refused as such).
      return None;
    }
    Some(match (known, self.nodejs || is_builtin(referrer)) {
      (true, true) => ModuleSpecifier::parse(&node).ok()?,
      (_, false) => self.refused(format!(
        "cannot import {specifier:?} from {referrer}: Node.js compatibility is off for this worker \
         (compatibility_flags = [\"nodejs_compat\"] in its edge.toml turns it on)"
      )),
      (false, true) => self.refused(format!(
        "cannot import {specifier:?} from {referrer}: this runtime has no Node.js module {node:?} yet"
      )),
    })
  }
}

/// Whether this runtime has the Node.js module `name` (`events`, `fs/promises`), which a
/// worker with Node.js compatibility can import as `node:<name>` or `<name>`.
pub fn has_node_module(name: &str) -> bool {
  crate::startup::is_node_module(&format!("node:{name}"))
}

impl ModuleLoader for BundleLoader {
  fn resolve(
    &self,
    specifier: &str,
    referrer: &str,
    _kind: ResolutionKind,
  ) -> Result<ModuleSpecifier, ModuleLoaderError> {
    if let Some(url) = self.resolve_builtin(specifier, referrer) {
      return Ok(url);
    }
    let url = deno_core::resolve_import(specifier, referrer).map_err(JsErrorBox::from_err)?;
    if !url.as_str().starts_with(MODULE_ROOT) {
      return Err(JsErrorBox::type_error(format!(
        "cannot import {specifier:?} from {referrer}: a worker can import only its own modules (relative paths)"
      )));
    }
    Ok(url)
  }

  fn load(
    &self,
    url: &ModuleSpecifier,
    _referrer: Option<&ModuleLoadReferrer>,
    options: ModuleLoadOptions,
  ) -> ModuleLoadResponse {
    ModuleLoadResponse::Sync(self.source(url, &options.requested_module_type))
  }
}

#[cfg(test)]
mod tests {
  use super::*;

  fn loader(files: &[(&str, &str)]) -> BundleLoader {
    let modules = files.iter().map(|(p, s)| (p.to_string(), Arc::from(s.as_bytes()))).collect();
    BundleLoader {
      modules: Arc::new(modules),
      rules: Arc::default(),
      wasm_main: None,
      nodejs: false,
      refusals: Default::default(),
    }
  }

  #[test]
  fn relative_imports_stay_inside_the_bundle() {
    let l = loader(&[("a/b.js", "")]);
    let url = l.resolve("./b.js", "worker:///a/main.js", ResolutionKind::Import).unwrap();
    assert_eq!(url.as_str(), "worker:///a/b.js");
    let up = l.resolve("../../../etc/passwd", "worker:///a/main.js", ResolutionKind::Import).unwrap();
    assert_eq!(up.as_str(), "worker:///etc/passwd", "dot segments cannot climb above the root");
    let err =
      l.resolve("https://example.com/x.js", "worker:///a/main.js", ResolutionKind::Import).unwrap_err();
    assert!(err.to_string().contains("only its own modules"), "{err}");
    let err = l.resolve("lodash", "worker:///a/main.js", ResolutionKind::Import).unwrap_err();
    assert!(err.to_string().contains("lodash"), "{err}");
  }

  #[test]
  fn missing_and_unsupported_modules_are_named() {
    let l = loader(&[("x.exe", "MZ")]);
    let err = l.source(&module_url("nope.js"), &RequestedModuleType::None).unwrap_err();
    assert!(err.to_string().contains("nope.js"), "{err}");
    let err = l.source(&module_url("x.exe"), &RequestedModuleType::None).unwrap_err();
    assert!(err.to_string().contains("unsupported module type"), "{err}");
  }

  #[test]
  fn data_modules_become_default_exports() {
    let l = loader(&[("d.json", "{\"a\": [1, 2]}"), ("t.txt", "say \"hi\"\n"), ("bad.json", "{")]);
    let json = l.source(&module_url("d.json"), &RequestedModuleType::None).unwrap();
    assert_eq!(json.code.as_bytes(), br#"export default {"a":[1,2]};"#);
    let text = l.source(&module_url("t.txt"), &RequestedModuleType::None).unwrap();
    assert_eq!(text.code.as_bytes(), br#"export default "say \"hi\"\n";"#);
    let err = l.source(&module_url("bad.json"), &RequestedModuleType::None).unwrap_err();
    assert!(err.to_string().contains("not valid JSON"), "{err}");
  }

  #[test]
  fn rules_decide_what_an_extension_is() {
    let mut l = loader(&[("q.sql", "select 1"), ("t.txt", "AB"), ("m.wasm", "\0asm")]);
    let sql = l.source(&module_url("q.sql"), &RequestedModuleType::None).unwrap();
    assert_eq!(sql.code.as_bytes(), br#"export default "select 1";"#);
    let wasm = l.source(&module_url("m.wasm?module"), &RequestedModuleType::None).unwrap();
    assert!(wasm.code.as_bytes().starts_with(b"export default new WebAssembly.Module("));
    l.rules = Arc::new(ModuleRules::with([("txt".to_owned(), ModuleKind::Data)]));
    let data = l.source(&module_url("t.txt"), &RequestedModuleType::None).unwrap();
    assert_eq!(data.code.as_bytes(), b"export default new Uint8Array([65, 66]).buffer;");
    assert_eq!(l.rules.kind("dir.v2/README"), None);
    assert_eq!(l.rules.kind("a/B.TXT"), Some(ModuleKind::Data));
  }
}
