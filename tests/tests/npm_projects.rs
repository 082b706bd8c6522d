//! Projects with npm dependencies, bundled on load with the project's own esbuild as wrangler
//! does: a Hono app with middleware (TypeScript), an itty-router app, a CommonJS-only package
//! (`ms`), a package resolved through conditional exports (the `workerd` condition wins over
//! `node` and `default`), JSX through `hono/jsx`, JSON and text imports; a stack trace names
//! the TypeScript source's line; an unresolvable import fails with esbuild's file and line and
//! the chain of imports to it (and `edge deploy` uploads nothing);
//! an exception while the bundle evaluates names the source's line too; `edge deploy` uploads
//! the bundle, and the same project bundles to the same version hash.
//! The packages are real, from npm: `.ci/setup` installs `tests/npm` (`npm ci`).

use std::path::Path;
use std::path::PathBuf;

use edge_tests::*;

const TOKEN: &str = "npm-token-0123456789";

const HONO_APP: &str = r#"import { Hono } from "hono";
import { cors } from "hono/cors";
import { etag } from "hono/etag";
import data from "./data.json";
import banner from "./banner.txt";

type Bindings = { GREETING: string };
const app = new Hono<{ Bindings: Bindings }>();
app.use("*", cors(), etag());
app.get("/", (c) => c.text(`${c.env.GREETING}: ${banner.trim()}`));
app.get("/items/:id", (c) => c.json({ id: c.req.param("id"), count: data.items.length }));
export default app;
"#;

fn hono_project(root: &Path) -> PathBuf {
  npm_project(
    root,
    "hono-app",
    &[
      ("wrangler.toml", "name = \"hono-app\"\nmain = \"src/index.ts\"\n[vars]\nGREETING = \"hi\"\n"),
      ("src/index.ts", HONO_APP),
      ("src/data.json", "{ \"items\": [1, 2, 3] }"),
      ("src/banner.txt", "served by Hono\n"),
    ],
  )
}

#[tokio::test]
async fn a_hono_app_with_middleware_json_and_text_imports_runs() {
  let root = tempfile::tempdir().unwrap();
  let server = DevServer::start(&hono_project(root.path()));
  let reply = get(&server.url).await;
  assert_eq!((reply.status, reply.body.as_str()), (200, "hi: served by Hono"));
  assert!(!reply.header("etag").is_empty(), "the etag middleware ran");
  let reply = get(&server.at("/items/42")).await;
  assert_eq!(reply.json(), serde_json::json!({ "id": "42", "count": 3 }));
}

#[tokio::test]
async fn a_trace_names_the_line_of_the_typescript_source() {
  let root = tempfile::tempdir().unwrap();
  let source = r#"import ms from "ms";
type Incoming = Request;
export default {
  fetch(request: Incoming): Response {
    if (request.url.endsWith("/boom")) {
      throw new Error("boom after " + ms(1000));
    }
    return new Response("ok");
  },
};
"#;
  let dir = npm_project(
    root.path(),
    "throws",
    &[("src/index.ts", source), ("edge.toml", "main = \"src/index.ts\"\n")],
  );
  let server = DevServer::start(&dir);
  assert_eq!(get(&server.url).await.body, "ok");
  let reply = get(&server.at("/boom")).await;
  assert_eq!(reply.status, 500, "{}", reply.body);
  let line = server.log.wait_for(&["boom after 1s"]);
  let trace = server.log.wait_for(&["src/index.ts:"]);
  assert!(
    trace.contains("worker:///src/index.ts:6:"),
    "the throw is on line 6 of src/index.ts:\n{line}\n{trace}"
  );
  assert!(!server.log.text().contains("src/index.js:"), "{}", server.log.text());
}

#[tokio::test]
async fn itty_router_commonjs_conditional_exports_and_jsx() {
  let root = tempfile::tempdir().unwrap();
  let itty = npm_project(
    root.path(),
    "itty",
    &[(
      "index.js",
      r#"import { AutoRouter } from "itty-router";
const router = AutoRouter();
router.get("/hello/:name", ({ name }) => new Response(`hello ${name}`));
export default router;
"#,
    )],
  );
  let cjs = npm_project(
    root.path(),
    "cjs",
    &[(
      "worker.ts",
      "import ms from \"ms\";\nexport default { fetch: () => new Response(String(ms(\"2 days\"))) };\n",
    )],
  );
  // A package of the project's own whose exports differ by condition.
  let conditional = npm_project(
    root.path(),
    "conditional",
    &[
      (
        "worker.js",
        "import which from \"which-runtime\";\nexport default { fetch: () => new Response(which) };\n",
      ),
      (
        "vendor/which-runtime/package.json",
        r#"{ "name": "which-runtime", "exports": { ".": { "node": "./node.js", "workerd": "./workerd.js", "default": "./default.js" } } }"#,
      ),
      ("vendor/which-runtime/node.js", "export default 'node';"),
      ("vendor/which-runtime/workerd.js", "export default 'workerd';"),
      ("vendor/which-runtime/default.js", "export default 'default';"),
    ],
  );
  std::fs::write(
    conditional.join("package.json"),
    r#"{ "name": "conditional", "private": true, "dependencies": { "which-runtime": "file:./vendor/which-runtime" } }"#,
  )
  .unwrap();
  // The link stands in for what `npm install` makes of a `file:` dependency.
  std::fs::remove_file(conditional.join("node_modules")).unwrap();
  std::fs::create_dir_all(conditional.join("node_modules/.bin")).unwrap();
  std::os::unix::fs::symlink(
    node_modules().join(".bin/esbuild"),
    conditional.join("node_modules/.bin/esbuild"),
  )
  .unwrap();
  std::os::unix::fs::symlink(node_modules().join("esbuild"), conditional.join("node_modules/esbuild"))
    .unwrap();
  std::os::unix::fs::symlink(node_modules().join("@esbuild"), conditional.join("node_modules/@esbuild"))
    .unwrap();
  std::os::unix::fs::symlink(
    conditional.join("vendor/which-runtime"),
    conditional.join("node_modules/which-runtime"),
  )
  .unwrap();
  let jsx = npm_project(
    root.path(),
    "jsx",
    &[
      ("tsconfig.json", r#"{ "compilerOptions": { "jsx": "react-jsx", "jsxImportSource": "hono/jsx" } }"#),
      (
        "src/index.tsx",
        r#"import { Hono } from "hono";
const Page = ({ name }: { name: string }) => <h1>Hello {name}</h1>;
const app = new Hono();
app.get("/", (c) => c.html(<Page name="JSX" />));
export default app;
"#,
      ),
      ("edge.toml", "main = \"src/index.tsx\"\n"),
    ],
  );
  let server = DevServer::start_many(&[itty, cjs, conditional, jsx]);
  assert_eq!(get_on(&server, "itty.localhost", "/hello/edge").await.body, "hello edge");
  assert_eq!(get_on(&server, "cjs.localhost", "/").await.body, "172800000");
  assert_eq!(get_on(&server, "conditional.localhost", "/").await.body, "workerd");
  let page = get_on(&server, "jsx.localhost", "/").await;
  assert_eq!(page.body, "<h1>Hello JSX</h1>", "{}", page.body);
}

#[tokio::test]
async fn an_import_that_does_not_resolve_names_the_file_line_and_import_chain() {
  let root = tempfile::tempdir().unwrap();
  let dir = npm_project(
    root.path(),
    "broken",
    &[
      (
        "src/index.ts",
        "import { query } from \"./db\";\nexport default { fetch: () => new Response(query()) };\n",
      ),
      ("src/db.ts", "import { nothing } from \"not-installed\";\nexport const query = () => nothing;\n"),
      ("edge.toml", "main = \"src/index.ts\"\n"),
    ],
  );
  let failed = DevServer::try_start(&dir).err().expect("an unresolvable import fails the start");
  assert!(
    failed.stderr.contains("not-installed") && failed.stderr.contains("src/db.ts:1:"),
    "{}",
    failed.stderr
  );
  assert!(failed.stderr.contains("import chain: src/index.ts → src/db.ts"), "{}", failed.stderr);

  // edge deploy says the same and uploads nothing.
  let node = ApiNode::start(TOKEN);
  let (code, out, err) = node.edge(&["deploy", dir.to_str().unwrap()]);
  assert_ne!(code, 0, "{out}");
  assert!(err.contains("src/db.ts:1:") && err.contains("import chain: src/index.ts → src/db.ts"), "{err}");
  let (_, listed, _) = node.edge(&["list"]);
  assert!(!listed.contains("broken"), "{listed}");
}

#[tokio::test]
async fn edge_deploy_uploads_the_bundle_and_the_same_inputs_give_the_same_version() {
  let root = tempfile::tempdir().unwrap();
  let node = ApiNode::start(TOKEN);
  let dir = hono_project(root.path());
  let deploy = || {
    let (code, out, err) = node.edge(&["deploy", dir.to_str().unwrap()]);
    assert_eq!(code, 0, "{out}\n{err}");
    // "deployed hono-app version 2-1a2b3c4d5e6f"
    out
      .split_whitespace()
      .nth(3)
      .filter(|w| w.contains('-'))
      .unwrap_or_else(|| panic!("no version: {out}"))
      .to_owned()
  };
  let first = deploy();
  let reply = get_on(&node.server, "hono-app.edge.localhost", "/").await;
  assert_eq!(reply.body, "hi: served by Hono");
  let second = deploy();
  let hash = |version: &str| version.split_once('-').map(|(_, hash)| hash.to_owned());
  assert_ne!(first, second, "a new version each deploy");
  assert_eq!(hash(&first), hash(&second), "the same inputs bundle to the same content");
}

#[tokio::test]
async fn an_exception_while_the_bundle_evaluates_names_the_source_line() {
  let root = tempfile::tempdir().unwrap();
  let source = r#"import ms from "ms";
type Settings = { timeout: number };
const settings: Settings = { timeout: ms("1 minute") };
if (settings.timeout > 1000) {
  throw new Error("refusing a timeout of " + settings.timeout);
}
export default { fetch: () => new Response("never") };
"#;
  let dir =
    npm_project(root.path(), "boot", &[("src/index.ts", source), ("edge.toml", "main = \"src/index.ts\"\n")]);
  let failed = DevServer::try_start(&dir).err().expect("a worker that throws while it loads does not start");
  assert!(failed.stderr.contains("refusing a timeout of 60000"), "{}", failed.stderr);
  assert!(
    failed.stderr.contains("src/index.ts:5:"),
    "the throw is on line 5 of src/index.ts:\n{}",
    failed.stderr
  );
  assert!(!failed.stderr.contains("src/index.js:"), "{}", failed.stderr);
}
