//! Bindings on deployed workers in a cluster: the sample workers for KV, the Cache API and a
//! service binding, deployed with `edge deploy --cluster --wait`, answer on every node: the
//! KV count is shared, the cache keeps answers per node, the gateway reaches auth locally.

use std::process::Command;

use edge_tests::*;

const TOKEN: &str = "bindings-token-0123456789";

fn deploy(nats: &Nats, name: &str) {
  let output = Command::new(edge_bin())
    .args(["deploy", sample(name).to_str().unwrap(), "--cluster", &nats.url, "--wait"])
    .env_remove("EDGE_NODE")
    .env_remove("EDGE_TOKEN")
    .output()
    .unwrap();
  let text = String::from_utf8_lossy(&output.stdout);
  assert!(output.status.success(), "deploy {name}: {text}\n{}", String::from_utf8_lossy(&output.stderr));
  assert!(text.contains("active on 2 node(s)"), "{text}");
}

#[tokio::test]
async fn deployed_workers_use_their_bindings_on_every_node() {
  let nats = Nats::start();
  let data = tempfile::tempdir().unwrap();
  let a = DevServer::cluster_node(&nats, "a", data.path(), TOKEN, &[]);
  let b = DevServer::cluster_node(&nats, "b", data.path(), TOKEN, &[]);
  for name in ["kv-counter", "auth", "gateway", "cached-api"] {
    deploy(&nats, name);
  }
  // KV: one namespace for the cluster.
  for (server, expected) in [(&a, 1), (&b, 2), (&a, 3)] {
    let reply = get_on(server, "kv-counter.edge.localhost", "/hits").await;
    assert_eq!(reply.json()["count"], expected, "{}", reply.body);
  }
  // A service binding, on each node.
  for server in [&a, &b] {
    let reply = send(
      http::Request::get(server.at("/"))
        .header("host", "gateway.edge.localhost")
        .header("authorization", "Bearer letmein")
        .body(Default::default())
        .unwrap(),
    )
    .await;
    assert_eq!(reply.status, 200, "{}", reply.body);
  }
  // The Cache API keeps answers on the node that made them.
  for server in [&a, &b] {
    let first = get_on(server, "cached-api.edge.localhost", "/time").await;
    assert_eq!(first.header("cf-cache-status"), "", "{}", first.body);
    let second = get_on(server, "cached-api.edge.localhost", "/time").await;
    assert_eq!(second.header("cf-cache-status"), "HIT");
  }
}
