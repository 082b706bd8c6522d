//! A Cloudflare project's wrangler configuration instead of an `edge.toml`: `edge dev` serves
//! a `wrangler.toml` project (TypeScript entry under `src/`, vars, a KV namespace, crons) and a
//! `wrangler.jsonc` one (comments, trailing commas), chooses `[env.<name>]` with `--env` (and
//! `.dev.vars.<env>`), names what has no effect here on stderr, lets `edge.toml` win when both
//! exist, refuses an unknown environment; `edge deploy` uploads the translation and refuses a
//! project whose bindings this platform does not offer, deploying nothing.

use std::path::Path;
use std::path::PathBuf;
use std::process::Command;

use edge_tests::*;

const TOKEN: &str = "wrangler-token-0123456789";

const WORKER_TS: &str = r#"
interface Env { GREETING: string; CACHE: KVNamespace; }
export default {
  async fetch(request: Request, env: Env): Promise<Response> {
    const seen = Number((await env.CACHE.get("seen")) ?? "0") + 1;
    await env.CACHE.put("seen", String(seen));
    return new Response(`${env.GREETING} #${seen}`);
  },
};
"#;

const WRANGLER_TOML: &str = r#"
name = "shop"
main = "src/index.ts"
compatibility_date = "2025-01-01"
account_id = "0123456789abcdef"
workers_dev = true

[vars]
GREETING = "hello from the top"

[[kv_namespaces]]
binding = "CACHE"
id = "shop-cache"

[triggers]
crons = ["0 0 * * *"]

[[d1_databases]]
binding = "DB"
database_name = "shop"

[env.production]
vars = { GREETING = "hello from production" }
kv_namespaces = [{ binding = "CACHE", id = "shop-cache-production" }]
"#;

/// A wrangler project in `root/<folder>`: `wrangler.toml` (or another config file) and
/// `src/index.ts`.
fn project(root: &Path, folder: &str, config_file: &str, config: &str) -> PathBuf {
  let dir = root.join(folder);
  std::fs::create_dir_all(dir.join("src")).unwrap();
  std::fs::write(dir.join(config_file), config).unwrap();
  std::fs::write(dir.join("src/index.ts"), WORKER_TS).unwrap();
  dir
}

#[tokio::test]
async fn a_wrangler_toml_project_runs_under_edge_dev() {
  let root = tempfile::tempdir().unwrap();
  let dir = project(root.path(), "shop", "wrangler.toml", WRANGLER_TOML);
  let server = DevServer::start(&dir);
  assert!(server.stdout.text().contains("serving worker shop"), "{}", server.stdout.text());
  assert_eq!(get(&server.url).await.body, "hello from the top #1");
  assert_eq!(get(&server.url).await.body, "hello from the top #2", "the KV namespace keeps its value");
  let log = server.log.wait_for(&["wrangler.toml", "d1_databases"]);
  assert!(log.contains("does not offer yet"), "{log}");
  let ignored = server.log.wait_for(&["no effect here"]);
  assert!(ignored.contains("account_id") && ignored.contains("workers_dev"), "{ignored}");
}

#[tokio::test]
async fn an_environment_is_chosen_with_env() {
  let root = tempfile::tempdir().unwrap();
  let dir = project(root.path(), "shop", "wrangler.toml", WRANGLER_TOML);
  let server = DevServer::start_with(std::slice::from_ref(&dir), &["--env", "production"]);
  assert!(server.stdout.text().contains("serving worker shop-production"), "{}", server.stdout.text());
  assert_eq!(get(&server.url).await.body, "hello from production #1");
  drop(server);

  // `.dev.vars.<env>` wins over `.dev.vars` in that environment.
  std::fs::write(dir.join(".dev.vars"), "GREETING=\"from dev vars\"\n").unwrap();
  std::fs::write(dir.join(".dev.vars.production"), "GREETING=\"from production dev vars\"\n").unwrap();
  let server = DevServer::start_with(std::slice::from_ref(&dir), &["--env", "production"]);
  assert_eq!(get(&server.url).await.body, "from production dev vars #1");
  drop(server);
  let server = DevServer::start(&dir);
  assert_eq!(get(&server.url).await.body, "from dev vars #1");
  drop(server);

  let failed = DevServer::start_command_with(&mut Command::new(edge_bin()), &[&dir], &["--env", "staging"])
    .err()
    .expect("an unknown environment fails the start");
  assert!(
    failed.stderr.contains("no environment \"staging\"") && failed.stderr.contains("production"),
    "{}",
    failed.stderr
  );
}

#[tokio::test]
async fn a_wrangler_jsonc_project_with_comments_runs() {
  let root = tempfile::tempdir().unwrap();
  let config = r#"{
  // The shop, as `wrangler init` writes it.
  "$schema": "node_modules/wrangler/config-schema.json",
  "name": "shop-jsonc",
  "main": "src/index.ts",
  "compatibility_date": "2025-01-01",
  /* Variables and the KV namespace. */
  "vars": { "GREETING": "hello from jsonc", },
  "kv_namespaces": [{ "binding": "CACHE", "id": "shop-jsonc" },],
}"#;
  let dir = project(root.path(), "shop", "wrangler.jsonc", config);
  let server = DevServer::start(&dir);
  assert!(server.stdout.text().contains("serving worker shop-jsonc"), "{}", server.stdout.text());
  assert_eq!(get(&server.url).await.body, "hello from jsonc #1");

  let broken =
    project(root.path(), "broken", "wrangler.jsonc", "{ \"name\": \"broken\", \"vars\": { \"A\": } }");
  let failed = DevServer::try_start(&broken).err().expect("a broken wrangler.jsonc fails the start");
  assert!(failed.stderr.contains("wrangler.jsonc") && failed.stderr.contains("line 1"), "{}", failed.stderr);
}

#[tokio::test]
async fn edge_toml_wins_over_a_wrangler_configuration() {
  let root = tempfile::tempdir().unwrap();
  let dir = project(root.path(), "shop", "wrangler.toml", WRANGLER_TOML);
  std::fs::write(
    dir.join("edge.toml"),
    "name = \"native\"\nmain = \"src/index.ts\"\nkv_namespaces = [{ binding = \"CACHE\" }]\n[vars]\nGREETING = \"hello from edge.toml\"\n",
  )
  .unwrap();
  let server = DevServer::start(&dir);
  assert!(server.stdout.text().contains("serving worker native"), "{}", server.stdout.text());
  assert_eq!(get(&server.url).await.body, "hello from edge.toml #1");
  let failed =
    DevServer::start_command_with(&mut Command::new(edge_bin()), &[&dir], &["--env", "production"])
      .err()
      .expect("--env with an edge.toml is refused");
  assert!(failed.stderr.contains("--env production"), "{}", failed.stderr);
}

#[tokio::test]
async fn edge_deploy_uploads_a_wrangler_project_and_refuses_missing_bindings() {
  let root = tempfile::tempdir().unwrap();
  let node = ApiNode::start(TOKEN);

  // The top level declares a D1 database the worker would not find: nothing is deployed.
  let dir = project(root.path(), "shop", "wrangler.toml", WRANGLER_TOML);
  let (code, out, err) = node.edge(&["deploy", dir.to_str().unwrap()]);
  assert_ne!(code, 0, "{out}\n{err}");
  assert!(err.contains("d1_databases") && err.contains("nothing was deployed"), "{err}");
  let (_, listed, _) = node.edge(&["list"]);
  assert!(!listed.contains("shop"), "{listed}");

  // The production environment does not inherit it, and deploys under its own name.
  let (code, out, err) = node.edge(&["deploy", dir.to_str().unwrap(), "--env", "production"]);
  assert_eq!(code, 0, "{out}\n{err}");
  assert!(out.contains("deployed shop-production"), "{out}");
  assert!(err.contains("no effect here") && err.contains("account_id"), "{err}");
  let reply = get_on(&node.server, "shop-production.edge.localhost", "/").await;
  assert_eq!(reply.body, "hello from production #1");
  let (_, listed, _) = node.edge(&["list"]);
  assert!(listed.contains("shop-production"), "{listed}");
}
