//! The worker templates Cloudflare's `create-cloudflare` (`npm create cloudflare`) ships, run
//! unchanged: each is copied from the installed package (`tests/npm`, create-cloudflare
//! 2.74.0) and its placeholders filled as create-cloudflare fills them, then served by `edge
//! dev` with nothing but `node_modules` beside it. hello-world (TypeScript and JavaScript),
//! scheduled (its cron, run by `edge trigger`), queues (producer and consumer on one queue)
//! and openapi (Hono + chanfana + zod: validation, the OpenAPI document, the docs page).
//! Templates that need Durable Objects, workflows, static assets or a framework's own CLI are
//! left out: this platform does not offer those bindings yet.

use std::path::Path;
use std::path::PathBuf;

use bytes::Bytes;
use http_body_util::Full;

use edge_tests::*;

const TOKEN: &str = "c3-token-0123456789";

/// The compatibility date create-cloudflare 2.74.0 writes into a new project.
const COMPATIBILITY_DATE: &str = "2026-10-06";

/// Copies `template/lang` from create-cloudflare's package into `root/name`, as
/// create-cloudflare does: `<WORKER_NAME>` and `<COMPATIBILITY_DATE>` filled,
/// `__dot__gitignore` renamed; then links the installed packages as its `node_modules`.
fn from_template(root: &Path, template: &str, lang: &str, name: &str) -> PathBuf {
  let source = node_modules().join("create-cloudflare/templates").join(template).join(lang);
  assert!(source.is_dir(), "{} is not in create-cloudflare's package", source.display());
  let dir = root.join(name);
  copy_tree(&source, &dir);
  std::fs::rename(dir.join("__dot__gitignore"), dir.join(".gitignore")).unwrap();
  let config = dir.join("wrangler.jsonc");
  let text = std::fs::read_to_string(&config).unwrap();
  assert!(text.contains("<WORKER_NAME>"), "{text}");
  let text = text.replace("<WORKER_NAME>", name).replace("<COMPATIBILITY_DATE>", COMPATIBILITY_DATE);
  std::fs::write(&config, text).unwrap();
  std::os::unix::fs::symlink(node_modules(), dir.join("node_modules")).unwrap();
  dir
}

fn copy_tree(from: &Path, to: &Path) {
  std::fs::create_dir_all(to).unwrap();
  for entry in std::fs::read_dir(from).unwrap() {
    let entry = entry.unwrap();
    let target = to.join(entry.file_name());
    if entry.file_type().unwrap().is_dir() {
      copy_tree(&entry.path(), &target);
    } else {
      std::fs::copy(entry.path(), target).unwrap();
    }
  }
}

#[tokio::test]
async fn hello_world_in_typescript_and_javascript() {
  let root = tempfile::tempdir().unwrap();
  let ts = from_template(root.path(), "hello-world", "ts", "hello-ts");
  let js = from_template(root.path(), "hello-world", "js", "hello-js");
  let server = DevServer::start_many(&[ts, js]);
  for host in ["hello-ts.localhost", "hello-js.localhost"] {
    let reply = get_on(&server, host, "/").await;
    assert_eq!((reply.status, reply.body.as_str()), (200, "Hello World!"), "{host}");
  }
}

#[tokio::test]
async fn scheduled_runs_its_cron_when_triggered() {
  let root = tempfile::tempdir().unwrap();
  from_template(root.path(), "scheduled", "ts", "cron-job");
  let node = ApiNode::serving(root.path(), TOKEN);
  let server = &node.server;
  let hint = get_on(server, "cron-job.edge.localhost", "/").await;
  assert!(hint.body.contains("/__scheduled?cron=*+*+*+*+*"), "{}", hint.body);
  let (code, out, err) = node.edge(&["trigger", "cron-job", "--cron", "* * * * *"]);
  // The handler fetches api.cloudflare.com: it logs success or failure where the internet is
  // reachable, and the run fails with the fetch's error where it is not (as in CI).
  let ran = server.log.wait_for_line(|line| {
    line.contains("trigger fired at * * * * *: ")
      || (line.contains("scheduled run failed") && line.contains("cron-job"))
  });
  assert!(code == 0 || ran.contains("scheduled run failed"), "{out}\n{err}\n{ran}");
}

#[tokio::test]
async fn queues_sends_from_fetch_and_consumes_the_message() {
  let root = tempfile::tempdir().unwrap();
  let dir = from_template(root.path(), "queues", "ts", "queue-job");
  let server = DevServer::start(&dir);
  let reply = get(&server.at("/from-the-test")).await;
  assert_eq!((reply.status, reply.body.as_str()), (200, "Sent message to the queue"));
  let line = server.log.wait_for(&["processed: "]);
  assert!(line.contains("/from-the-test") && line.contains(r#""method":"GET""#), "{line}");
}

#[tokio::test]
async fn openapi_validates_requests_and_serves_its_schema_and_docs() {
  let root = tempfile::tempdir().unwrap();
  let dir = from_template(root.path(), "openapi", "ts", "tasks-api");
  let server = DevServer::start(&dir);
  let list = get(&server.at("/api/tasks")).await;
  assert_eq!(list.status, 200, "{}", list.body);
  assert_eq!(list.json()["success"], true, "{}", list.body);
  let post = |body: &'static str| {
    let request = http::Request::post(server.at("/api/tasks"))
      .header("content-type", "application/json")
      .body(Full::new(Bytes::from_static(body.as_bytes())))
      .unwrap();
    send(request)
  };
  let created = post(r#"{ "name": "write tests", "slug": "tests", "due_date": "2026-12-24" }"#).await;
  assert_eq!(created.status, 201, "{}", created.body);
  assert_eq!(created.json()["task"]["completed"], false, "zod filled the default: {}", created.body);
  let refused = post(r#"{ "name": 7 }"#).await;
  assert_eq!(refused.status, 400, "{}", refused.body);
  assert_eq!(refused.json()["success"], false, "{}", refused.body);
  let schema = get(&server.at("/openapi.json")).await;
  assert!(schema.json()["openapi"].as_str().unwrap_or("").starts_with("3.1"), "{}", schema.body);
  assert!(schema.json()["paths"]["/api/tasks/{taskSlug}"].is_object(), "{}", schema.body);
  let docs = get(&server.url).await;
  assert!(docs.status == 200 && docs.body.contains("swagger"), "{}", docs.body);

  // And it deploys as it is.
  let node = ApiNode::start(TOKEN);
  let (code, out, err) = node.edge(&["deploy", dir.to_str().unwrap()]);
  assert_eq!(code, 0, "{out}\n{err}");
  let deployed = get_on(&node.server, "tasks-api.edge.localhost", "/api/tasks/tests").await;
  assert_eq!(deployed.status, 200, "{}", deployed.body);
}
