//! Least privilege: a worker's outbound `fetch` reaches only the hosts its `edge.toml`
//! declares (`[outbound] hosts`) and the private addresses it allows; anything else is refused
//! with an error that says what to declare. The admin API shows each version's effective
//! permissions (its compatibility settings among them); a host entry that is not a host is refused when the worker is read.

use edge_tests::*;
use serde_json::Value;

const TOKEN: &str = "permissions-token-0123";

/// A loopback HTTP server answering "reached"; returns its port.
async fn loopback_target() -> u16 {
  let recorder = Recorder::start().await;
  let port = recorder.url.rsplit(':').next().unwrap().parse().unwrap();
  // The recorder answers 200 with an empty body for as long as the test runs.
  std::mem::forget(recorder);
  port
}

fn outbound_worker(manifest: &str) -> tempfile::TempDir {
  let source = std::fs::read_to_string(fixture("outbound").join("worker.js")).unwrap();
  worker_dir(&[("edge.toml", manifest), ("worker.js", &source)])
}

async fn fetch_from(server: &DevServer, url: &str) -> Value {
  let reply = get(&server.at(&format!("/?url={url}"))).await;
  assert_eq!(reply.status, 200, "{}", reply.body);
  reply.json()
}

fn refused(result: &Value, address: &str) -> bool {
  result["ok"] == false
    && result["name"] == "TypeError"
    && result["message"]
      == format!("fetch refused: {address} is not a host this worker may reach: declare it in its edge.toml under [outbound] hosts (a private address under [outbound] allow)")
}

#[tokio::test]
async fn a_worker_reaches_only_the_hosts_it_declares() {
  let port = loopback_target().await;
  // Nothing declared: no host at all, public or private.
  let server = DevServer::start(outbound_worker("name = \"closed\"\n").path());
  let result = fetch_from(&server, "https://api.example.com/v1").await;
  assert!(refused(&result, "api.example.com:443"), "{result}");
  let result = fetch_from(&server, &format!("http://localhost:{port}/")).await;
  assert!(refused(&result, &format!("localhost:{port}")), "{result}");
  drop(server);

  // Declared hosts pass the check (no DNS answers here, so a public one fails later, with
  // another error); the private address it resolves to must be allowed too.
  let dir = outbound_worker(
    "name = \"declared\"\n[outbound]\nhosts = [\"localhost\", \"*.example.com\"]\nallow = [\"127.0.0.1\"]\n",
  );
  let server = DevServer::start(dir.path());
  let reached = fetch_from(&server, &format!("http://localhost:{port}/")).await;
  assert_eq!((reached["ok"].as_bool(), reached["status"].as_u64()), (Some(true), Some(200)), "{reached}");
  let wildcard = fetch_from(&server, "https://api.example.com/v1").await;
  assert_eq!(wildcard["ok"], false, "{wildcard}");
  assert!(
    !wildcard["message"].as_str().unwrap().contains("is not a host this worker may reach"),
    "{wildcard}"
  );
  for (url, address) in [
    ("https://api.example.org/".to_owned(), "api.example.org:443".to_owned()),
    (format!("http://127.0.0.2:{port}/"), format!("127.0.0.2:{port}")),
  ] {
    let result = fetch_from(&server, &url).await;
    assert!(refused(&result, &address), "{url}: {result}");
  }
  // A port named in the declaration is the only port.
  drop(server);
  let dir =
    outbound_worker("name = \"ported\"\n[outbound]\nhosts = [\"localhost:1\"]\nallow = [\"127.0.0.1\"]\n");
  let server = DevServer::start(dir.path());
  let result = fetch_from(&server, &format!("http://localhost:{port}/")).await;
  assert!(refused(&result, &format!("localhost:{port}")), "{result}");
}

#[tokio::test]
async fn the_admin_api_shows_each_versions_effective_permissions() {
  let data = tempfile::tempdir().unwrap();
  let workers = tempfile::tempdir().unwrap();
  let server =
    DevServer::node(workers.path(), &["--admin-token", TOKEN, "--data-dir", data.path().to_str().unwrap()]);
  let admin = server.admin_url();
  let dir = outbound_worker(
    r#"name = "shop"
compatibility_date = "2026-09-01"
compatibility_flags = ["nodejs_compat"]
kv_namespaces = [{ binding = "CARTS", id = "carts" }]
services = [{ binding = "AUTH", service = "auth" }]
crons = ["*/5 * * * *"]
[vars]
CURRENCY = "EUR"
[outbound]
hosts = ["api.stripe.com", "*.shopify.com"]
allow = ["10.0.0.7"]
[limits]
subrequests = 7
[[queues.producers]]
binding = "ORDERS"
queue = "orders"
"#,
  );
  let (code, out, err) =
    run_edge(&["deploy", dir.path().to_str().unwrap(), "--node", &admin, "--token", TOKEN]);
  assert_eq!(code, 0, "{err}");
  assert!(out.contains("compatibility: nodejs_compat, 2026-09-01: Node.js compatibility on"), "{out}");

  let api = |path: &str| {
    let url = format!("{admin}/v1/workers/shop/versions/{path}");
    async move { get_authorized(&url, TOKEN).await }
  };
  let reply = api("active/permissions").await;
  assert_eq!(reply.status, 200, "{}", reply.body);
  let permissions: Value = reply.json();
  let version = permissions["version"].as_str().unwrap().to_owned();
  assert!(version.starts_with("1-"), "{permissions}");
  assert_eq!(permissions["worker"], "shop");
  assert_eq!(permissions["outbound"]["hosts"], serde_json::json!(["api.stripe.com", "*.shopify.com"]));
  assert_eq!(permissions["outbound"]["private_allowed"], serde_json::json!(["10.0.0.7"]));
  assert!(permissions["outbound"]["always_denied"].as_array().unwrap().contains(&"169.254.0.0/16".into()));
  assert_eq!(permissions["outbound"]["subrequests_per_request"], 7);
  assert_eq!(permissions["bindings"]["kv"], serde_json::json!({ "CARTS": "carts" }));
  assert_eq!(permissions["bindings"]["services"], serde_json::json!({ "AUTH": "auth" }));
  assert_eq!(permissions["bindings"]["queue_producers"], serde_json::json!({ "ORDERS": "orders" }));
  assert_eq!(permissions["vars"], serde_json::json!(["CURRENCY"]));
  assert_eq!(permissions["crons"], serde_json::json!(["*/5 * * * *"]));
  assert_eq!(
    permissions["compatibility"],
    serde_json::json!({ "date": "2026-09-01", "flags": ["nodejs_compat"], "nodejs": true })
  );
  assert_eq!(api(&format!("{version}/permissions")).await.json(), permissions);

  let missing = api("9-000000000000/permissions").await;
  assert_eq!(missing.status, 404);
  assert!(missing.body.contains("shop has no version \\\"9-000000000000\\\""), "{}", missing.body);
  let anonymous = get(&format!("{admin}/v1/workers/shop/versions/active/permissions")).await;
  assert_eq!(anonymous.status, 401);

  // A URL where a host belongs is refused at deploy, naming the entry.
  let bad = outbound_worker("name = \"shop\"\n[outbound]\nhosts = [\"https://api.stripe.com\"]\n");
  let (code, _, err) =
    run_edge(&["deploy", bad.path().to_str().unwrap(), "--node", &admin, "--token", TOKEN]);
  assert_ne!(code, 0);
  assert!(err.contains("outbound.hosts: \"https://api.stripe.com\" is not a host"), "{err}");
}
