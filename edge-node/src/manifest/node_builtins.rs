//! Node.js built-ins in a bundle of a worker with Node.js compatibility, as wrangler bundles
//! them with `nodejs_compat`: every built-in name (`buffer`, `node:buffer`, `fs/promises`)
//! stays external, for the runtime's `node:*` modules to resolve at load; and the CommonJS
//! `require("events")` calls of the bundled packages, which esbuild turns into calls of its
//! `__require` shim (which throws, an ES module having no `require`), reach those modules
//! through a `require` the bundle is given: a first line that imports each built-in the bundle
//! requires and the runtime has, and maps its names to its default export (Node's
//! `module.exports`); any other name throws `MODULE_NOT_FOUND` when required, as in Node, so a
//! package that tries an optional module still loads. esbuild's shim calls a `require` in
//! scope when there is one, and its renamer keeps the bundle's own top-level names off
//! `require` for that reason.

/// Node.js 20's built-in modules (`require("module").builtinModules`).
pub const BUILTINS: &[&str] = &[
  "_http_agent",
  "_http_client",
  "_http_common",
  "_http_incoming",
  "_http_outgoing",
  "_http_server",
  "_stream_duplex",
  "_stream_passthrough",
  "_stream_readable",
  "_stream_transform",
  "_stream_wrap",
  "_stream_writable",
  "_tls_common",
  "_tls_wrap",
  "assert",
  "assert/strict",
  "async_hooks",
  "buffer",
  "child_process",
  "cluster",
  "console",
  "constants",
  "crypto",
  "dgram",
  "diagnostics_channel",
  "dns",
  "dns/promises",
  "domain",
  "events",
  "fs",
  "fs/promises",
  "http",
  "http2",
  "https",
  "inspector",
  "inspector/promises",
  "module",
  "net",
  "os",
  "path",
  "path/posix",
  "path/win32",
  "perf_hooks",
  "process",
  "punycode",
  "querystring",
  "readline",
  "readline/promises",
  "repl",
  "stream",
  "stream/consumers",
  "stream/promises",
  "stream/web",
  "string_decoder",
  "sys",
  "timers",
  "timers/promises",
  "tls",
  "trace_events",
  "tty",
  "url",
  "util",
  "util/types",
  "v8",
  "vm",
  "wasi",
  "worker_threads",
  "zlib",
];

/// Whether `specifier` names a built-in (`events`, `node:events`, `node:sqlite`).
pub fn is_builtin(specifier: &str) -> bool {
  specifier.starts_with("node:") || BUILTINS.contains(&specifier)
}

/// esbuild's arguments that leave the bare built-in names external (`node:*` always is).
pub fn externals() -> Vec<String> {
  BUILTINS.iter().map(|name| format!("--external:{name}")).collect()
}

/// The line that gives the bundle its `require` of built-ins, from esbuild's `metafile` of
/// it and whether the runtime has a module (`available("events")`): none when the bundle
/// requires no built-in.
pub fn require_line(metafile: &serde_json::Value, available: impl Fn(&str) -> bool) -> Option<String> {
  let mut names: Vec<&str> = metafile["outputs"]
    .as_object()?
    .values()
    .filter_map(|output| output["imports"].as_array())
    .flatten()
    .filter(|import| import["kind"] == "require-call" && import["external"] == true)
    .filter_map(|import| import["path"].as_str())
    .filter(|path| is_builtin(path))
    .map(|path| path.strip_prefix("node:").unwrap_or(path))
    .collect();
  names.sort_unstable();
  names.dedup();
  if names.is_empty() {
    return None;
  }
  let mut line = String::new();
  let mut table = Vec::new();
  for (at, name) in names.iter().filter(|name| available(name)).enumerate() {
    line.push_str(&format!("import __edge_builtin_{at} from \"node:{name}\"; "));
    table.push(format!("\"{name}\": __edge_builtin_{at}"));
  }
  line.push_str(&format!(
    "const require = ((builtins) => function require(name) {{ const key = String(name).replace(/^node:/, \"\"); \
     if (Object.hasOwn(builtins, key)) return builtins[key]; \
     throw Object.assign(new Error(`Cannot find module '${{name}}': neither bundled nor a Node.js built-in this runtime has`), \
     {{ code: \"MODULE_NOT_FOUND\" }}); }})({{ {} }});\n",
    table.join(", ")
  ));
  Some(line)
}

/// `code` with `line` (one line) first, and its source map `map` (JSON) moved down a line.
pub fn prepend(line: &str, code: Vec<u8>, map: &[u8]) -> Result<(Vec<u8>, Vec<u8>), String> {
  let mut json: serde_json::Value =
    serde_json::from_slice(map).map_err(|e| format!("esbuild's source map: {e}"))?;
  if let Some(mappings) = json["mappings"].as_str() {
    json["mappings"] = serde_json::Value::String(format!(";{mappings}"));
  }
  let mut out = line.as_bytes().to_vec();
  out.extend(code);
  Ok((out, serde_json::to_vec(&json).map_err(|e| e.to_string())?))
}

#[cfg(test)]
mod tests {
  use super::*;

  #[test]
  fn the_require_line_imports_each_required_builtin_once() {
    let meta = serde_json::json!({"outputs": {"bundle.js": {"imports": [
      {"path": "events", "kind": "require-call", "external": true},
      {"path": "node:events", "kind": "require-call", "external": true},
      {"path": "node:buffer", "kind": "import-statement", "external": true},
      {"path": "lodash", "kind": "require-call", "external": true},
      {"path": "node:zlib", "kind": "require-call", "external": true},
    ]}}});
    let line = require_line(&meta, |name| name != "zlib").unwrap();
    assert!(line.starts_with("import __edge_builtin_0 from \"node:events\"; const require"), "{line}");
    assert!(line.contains("{ \"events\": __edge_builtin_0 }"), "{line}");
    assert!(line.ends_with('\n') && line.matches('\n').count() == 1);
    let none = serde_json::json!({"outputs": {"bundle.js": {"imports": [
      {"path": "node:buffer", "kind": "import-statement", "external": true},
    ]}}});
    assert_eq!(require_line(&none, |_| true), None);
  }

  #[test]
  fn prepending_a_line_moves_the_source_map_down_a_line() {
    let (code, map) = prepend("first;\n", b"second;\n".to_vec(), br#"{"mappings":"AAAA"}"#).unwrap();
    assert_eq!(code, b"first;\nsecond;\n");
    assert_eq!(map, br#"{"mappings":";AAAA"}"#);
  }
}
