//! Module rules, wrangler's and a worker's own: what importing a non-JavaScript file gives.
//! In a bundled project (esbuild) and in a plain worker folder alike: text as a string, data
//! as an `ArrayBuffer`, WebAssembly (also as `.wasm?module`) as a `WebAssembly.Module`, from
//! whichever module imports them; `rules` in a wrangler configuration and `[[rules]]` in
//! `edge.toml` extend and override the defaults; a rule that cannot apply is named at load.

use std::path::Path;

use edge_tests::*;

const TOKEN: &str = "rules-token-0123456789";

/// A WebAssembly module exporting `add(i32, i32) -> i32`.
const ADD_WASM: &[u8] = &[
  0x00, 0x61, 0x73, 0x6d, 0x01, 0x00, 0x00, 0x00, // magic, version
  0x01, 0x07, 0x01, 0x60, 0x02, 0x7f, 0x7f, 0x01, 0x7f, // type: (i32, i32) -> i32
  0x03, 0x02, 0x01, 0x00, // function 0 has type 0
  0x07, 0x07, 0x01, 0x03, b'a', b'd', b'd', 0x00, 0x00, // export "add" = function 0
  0x0a, 0x09, 0x01, 0x07, 0x00, 0x20, 0x00, 0x20, 0x01, 0x6a, 0x0b, // local.get 0 + local.get 1
];

/// A module, two folders below the entry, that imports every kind of file beside it.
const NESTED: &str = r#"import add from "./add.wasm";
import addModule from "./add.wasm?module";
import bytes from "./blob.bin";
import query from "./query.sql";
import notes from "./notes.md";
import table from "./table.dat";

export function report() {
  const sum = new WebAssembly.Instance(add).exports.add(2, 3);
  const again = new WebAssembly.Instance(addModule).exports.add(4, 5);
  return [
    `wasm ${add instanceof WebAssembly.Module} ${sum} ${again}`,
    `bin ${bytes instanceof ArrayBuffer} ${bytes.byteLength}`,
    `sql ${typeof query} ${query.trim()}`,
    `md ${typeof notes} ${notes.trim()}`,
    `dat ${table instanceof ArrayBuffer} ${new Uint8Array(table).join(",")}`,
  ].join("\n");
}
"#;

const ENTRY: &str =
  "import { report } from \"./lib/deep/mod.js\";\nexport default { fetch: () => new Response(report()) };\n";

const EXPECTED: &str = "wasm true 5 9\nbin true 3\nsql string select 1\nmd string # notes\ndat true 7,8";

/// The files of the worker, under `src/`.
fn write_sources(dir: &Path) {
  let write = |path: &str, bytes: &[u8]| {
    let path = dir.join(path);
    std::fs::create_dir_all(path.parent().unwrap()).unwrap();
    std::fs::write(path, bytes).unwrap();
  };
  write("src/index.js", ENTRY.as_bytes());
  write("src/lib/deep/mod.js", NESTED.as_bytes());
  write("src/lib/deep/add.wasm", ADD_WASM);
  write("src/lib/deep/blob.bin", &[1, 2, 3]);
  write("src/lib/deep/query.sql", b"select 1\n");
  write("src/lib/deep/notes.md", b"# notes\n");
  write("src/lib/deep/table.dat", &[7, 8]);
}

/// wrangler's rules: `.md` as text (falling through to the default text rules) and `.dat` as
/// data, besides the defaults.
const WRANGLER: &str = r#"{
  "name": "rules",
  "main": "src/index.js",
  "rules": [
    { "type": "Text", "globs": ["**/*.md"], "fallthrough": true },
    { "type": "Data", "globs": ["**/*.dat"], "fallthrough": true }
  ]
}"#;

#[tokio::test]
async fn a_bundled_project_imports_text_data_and_webassembly_from_a_nested_module() {
  let root = tempfile::tempdir().unwrap();
  let dir = npm_project(root.path(), "rules", &[("wrangler.jsonc", WRANGLER)]);
  write_sources(&dir);
  let server = DevServer::start(&dir);
  let reply = get(&server.url).await;
  assert_eq!((reply.status, reply.body.as_str()), (200, EXPECTED), "{}", server.log.text());

  // Deployed, the bundle travels with the WebAssembly and data modules it imports.
  let node = ApiNode::start(TOKEN);
  let (code, out, err) = node.edge(&["deploy", dir.to_str().unwrap()]);
  assert_eq!(code, 0, "{out}\n{err}");
  let reply = get_on(&node.server, "rules.edge.localhost", "/").await;
  assert_eq!((reply.status, reply.body.as_str()), (200, EXPECTED));
}

#[tokio::test]
async fn a_plain_worker_follows_the_same_rules_from_edge_toml() {
  let dir = worker_dir(&[(
    "edge.toml",
    "main = \"src/index.js\"\n[[rules]]\ntype = \"Text\"\nglobs = [\"**/*.md\"]\nfallthrough = true\n[[rules]]\ntype = \"Data\"\nglobs = [\"**/*.dat\"]\nfallthrough = true\n",
  )]);
  write_sources(dir.path());
  let server = DevServer::start(dir.path());
  let reply = get(&server.url).await;
  assert_eq!((reply.status, reply.body.as_str()), (200, EXPECTED), "{}", server.log.text());
}

#[tokio::test]
async fn a_rule_overrides_a_default_and_what_cannot_apply_is_named() {
  // `.txt` as bytes instead of text; a glob by folder cannot apply; a later Text rule after
  // one without fallthrough has no effect.
  let dir = worker_dir(&[
    (
      "edge.toml",
      "[[rules]]\ntype = \"Data\"\nglobs = [\"**/*.txt\"]\n[[rules]]\ntype = \"Text\"\nglobs = [\"templates/**\"]\n[[rules]]\ntype = \"Text\"\nglobs = [\"**/*.tpl\"]\n",
    ),
    ("worker.js", "import t from \"./t.txt\";\nexport default { fetch: () => new Response(`${t instanceof ArrayBuffer} ${t.byteLength}`) };\n"),
    ("t.txt", "four"),
  ]);
  let server = DevServer::start(dir.path());
  assert_eq!(get(&server.url).await.body, "true 4");
  server.log.wait_for(&["templates/**", "rules apply by extension"]);
  server.log.wait_for(&["**/*.tpl", "fallthrough"]);

  let bad = worker_dir(&[
    ("edge.toml", "[[rules]]\ntype = \"PythonModule\"\nglobs = [\"**/*.py\"]\n"),
    ("worker.js", "export default { fetch: () => new Response('x') };\n"),
  ]);
  let failed = DevServer::try_start(bad.path()).err().expect("an unknown rule type is refused");
  assert!(failed.stderr.contains("PythonModule") && failed.stderr.contains("edge.toml"), "{}", failed.stderr);
}
