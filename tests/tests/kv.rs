//! KV namespaces (`env.<BINDING>`, Cloudflare's KVNamespace API) through real HTTP: every call
//! and its errors on `edge dev`, persistence across a node's restart in its data directory,
//! `edge kv` as a process, and a cluster where a write on one node is read on another.

use std::path::Path;
use std::process::Command;

use edge_tests::*;

const TOKEN: &str = "kv-test-token-0123456789";

#[tokio::test]
async fn the_kv_api_behaves_like_cloudflares() {
  let server = DevServer::start(&fixture("kv-api"));
  let reply = get(&server.at("/")).await;
  assert_eq!(reply.status, 200, "{}", reply.body);
  let out = reply.json();
  assert_eq!(out["text"], "hello");
  assert_eq!(out["textType"], "hello");
  assert_eq!(out["json"], serde_json::json!({ "a": [1, 2] }));
  assert_eq!(out["bytes"], serde_json::json!([1, 2, 255]));
  assert_eq!(out["stream"], "streamed");
  assert_eq!(out["meta"], serde_json::json!({ "value": "with metadata", "metadata": { "owner": "me" } }));
  assert_eq!(out["missing"], serde_json::Value::Null);
  assert_eq!(out["missingWithMetadata"], serde_json::json!({ "value": null, "metadata": null }));
  assert_eq!(out["expired"], serde_json::Value::Null, "an entry past its expiration reads as absent");
  assert_eq!(out["otherNamespace"], serde_json::Value::Null, "namespaces are separate");
  assert_eq!(
    out["pages"],
    serde_json::json!([
      { "keys": ["page/1", "page/2"], "complete": false, "hasCursor": true },
      { "keys": ["page/3", "page/4"], "complete": false, "hasCursor": true },
      { "keys": ["page/5"], "complete": true, "hasCursor": false },
    ])
  );
  assert_eq!(out["listedMeta"]["name"], "meta");
  assert_eq!(out["listedMeta"]["metadata"], serde_json::json!({ "owner": "me" }));
  assert!(out["listedMeta"]["expiration"].as_u64().unwrap() > 1_700_000_000);
  assert_eq!(out["deleted"], serde_json::Value::Null);
  let errors = &out["errors"];
  assert!(errors["emptyKey"].as_str().unwrap().contains("must not be empty"), "{errors}");
  assert!(errors["longKey"].as_str().unwrap().contains("more than the 512 allowed"), "{errors}");
  assert!(errors["bigValue"].as_str().unwrap().contains("more than the 1000000 allowed"), "{errors}");
  assert!(errors["badType"].as_str().unwrap().contains("unknown type \"xml\""), "{errors}");
  assert!(errors["badValue"].as_str().unwrap().contains("put() takes a string"), "{errors}");
}

fn node_with_data(data: &Path) -> DevServer {
  let samples = sample("");
  let args = [
    "--data-dir",
    data.to_str().unwrap(),
    "--admin-token",
    TOKEN,
    "--admin-listen",
    "127.0.0.1:0",
    "--workers-dir",
    samples.to_str().unwrap(),
  ];
  DevServer::try_start_node(&args.map(std::ffi::OsStr::new))
    .unwrap_or_else(|f| panic!("edge node failed ({}):\n{}", f.status, f.stderr))
}

async fn count(server: &DevServer, path: &str) -> u64 {
  let reply = get_on(server, "kv-counter.edge.localhost", path).await;
  assert_eq!(reply.status, 200, "{}", reply.body);
  reply.json()["count"].as_u64().unwrap()
}

/// Runs `edge kv <args>` with `env`; returns (exit code, stdout, stderr).
fn edge_kv(env: &[(&str, &str)], args: &[&str]) -> (i32, String, String) {
  let mut command = Command::new(edge_bin());
  command.arg("kv").args(args).env_remove("EDGE_NODE").env_remove("EDGE_TOKEN").env_remove("EDGE_CLUSTER");
  for (name, value) in env {
    command.env(name, value);
  }
  let output = command.output().expect("run edge kv");
  let text = |b: &[u8]| String::from_utf8_lossy(b).into_owned();
  (output.status.code().unwrap_or(-1), text(&output.stdout), text(&output.stderr))
}

#[tokio::test]
async fn a_node_keeps_its_kv_across_restarts_and_edge_kv_reads_and_writes_it() {
  let data = tempfile::tempdir().unwrap();
  let mut server = node_with_data(data.path());
  assert_eq!(count(&server, "/home").await, 1);
  assert_eq!(count(&server, "/home").await, 2);
  assert!(server.stop_with("TERM").success());
  let server = node_with_data(data.path());
  assert_eq!(count(&server, "/home").await, 3, "the count survived the restart");

  let node = [("EDGE_NODE", server.admin_url()), ("EDGE_TOKEN", TOKEN.to_owned())];
  let env: Vec<(&str, &str)> = node.iter().map(|(k, v)| (*k, v.as_str())).collect();
  assert_eq!(edge_kv(&env, &["get", "counter", "home"]), (0, "3".into(), String::new()));
  let (code, _, err) = edge_kv(&env, &["put", "counter", "home", "41"]);
  assert_eq!(code, 0, "{err}");
  assert_eq!(count(&server, "/home").await, 42, "the worker reads what the CLI wrote");
  assert_eq!(count(&server, "/about").await, 1);
  let (code, list, _) = edge_kv(&env, &["list", "counter"]);
  assert_eq!(code, 0);
  assert_eq!(list.lines().collect::<Vec<_>>(), ["about", "home"]);
  let (code, list, _) = edge_kv(&env, &["list", "counter", "--prefix", "ho"]);
  assert_eq!((code, list.as_str()), (0, "home\n"));
  assert_eq!(edge_kv(&env, &["delete", "counter", "home"]).0, 0);
  let (code, _, err) = edge_kv(&env, &["get", "counter", "home"]);
  assert_eq!(code, 1);
  assert!(err.contains("no key \"home\""), "{err}");
  let (code, _, err) = edge_kv(&env, &["put", "Bad Namespace", "k", "v"]);
  assert_eq!(code, 1);
  assert!(err.contains("namespace id"), "{err}");
  assert_eq!(count(&server, "/home").await, 1, "deleted, it counts from the start");
}

#[tokio::test]
async fn in_a_cluster_a_write_on_one_node_is_read_on_another() {
  let nats = Nats::start();
  let data = tempfile::tempdir().unwrap();
  let samples = sample("");
  let start = |id: &str| {
    DevServer::cluster_node(&nats, id, data.path(), TOKEN, &["--workers-dir", samples.to_str().unwrap()])
  };
  let (a, b) = (start("a"), start("b"));
  assert_eq!(count(&a, "/shared").await, 1);
  assert_eq!(count(&b, "/shared").await, 2);
  assert_eq!(count(&a, "/shared").await, 3);
  let cluster = [("EDGE_CLUSTER", nats.url.as_str())];
  assert_eq!(edge_kv(&cluster, &["get", "counter", "shared"]), (0, "3".into(), String::new()));
  assert_eq!(edge_kv(&cluster, &["put", "counter", "shared", "9"]).0, 0);
  assert_eq!(count(&b, "/shared").await, 10);
}
