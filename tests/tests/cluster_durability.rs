//! Nothing acknowledged is lost in a cluster: against a real nats-server run with
//! `sync_interval: always`, a deploy, a KV write and a queued message acknowledged just
//! before the server is SIGKILLed are all there after its restart, and the nodes catch up
//! (a running node reconnects and follows new deploys, a new node serves what was deployed).
//! With three nats-servers and `cluster_replicas = 3`, every stream and bucket has three
//! copies, and a SIGKILLed server (the one the node and the CLI talked to) loses nothing.
//! A node says at start what the cluster could lose: one copy, a server that acknowledges
//! before syncing, or one whose settings it cannot read; and a replica count the servers
//! cannot hold, or out of range, is a clear error.

use std::path::Path;

use edge_tests::*;

const TOKEN: &str = "durability-token-0123456789";

/// What `app` answers on `server`, once it answers `expected` (a node follows the cluster
/// asynchronously; the log line says when it has).
async fn says(server: &DevServer, expected: &str) {
  server.log.wait_for(&["activated from the cluster", "app"]);
  let reply = get_on(server, "app.edge.localhost", "/").await;
  assert_eq!((reply.status, reply.body.as_str()), (200, expected));
}

async fn hits(server: &DevServer) -> serde_json::Value {
  let reply = get_on(server, "kv-counter.edge.localhost", "/hits").await;
  assert_eq!(reply.status, 200, "{}", reply.body);
  reply.json()["count"].clone()
}

#[tokio::test]
async fn writes_acknowledged_before_nats_is_killed_are_there_after_its_restart() {
  let mut nats = Nats::start_synced();
  let data = tempfile::tempdir().unwrap();
  let source = tempfile::tempdir().unwrap();
  let a = DevServer::cluster_node(&nats, "a", data.path(), TOKEN, &["--cluster-monitor", &nats.monitor]);
  a.log.wait_for(&["nats-server syncs every write to disk before acknowledging it"]);
  deploy_to_cluster(&nats, &fixture("queues").join("producer"));
  deploy_to_cluster(&nats, &sample("kv-counter"));

  // Each acknowledged, then the server dies without a chance to flush anything.
  deploy_to_cluster(&nats, &greeting_app(source.path(), "before the crash"));
  says(&a, "before the crash").await;
  assert_eq!(hits(&a).await, 1);
  let sent = post_on(&a, "producer.edge.localhost", "/", r#"[{"n": 7, "mode": "ok"}]"#).await;
  assert_eq!(sent.status, 200, "{}", sent.body);
  nats.kill_and_restart();

  // The deploy: its record and bundle, read straight from the cluster and by a new node.
  let (code, versions, err) = run_edge(&["versions", "app", "--cluster", &nats.url]);
  assert_eq!(code, 0, "{err}");
  assert!(versions.lines().last().is_some_and(|l| l.starts_with("* 1-")), "{versions}");
  let b = DevServer::cluster_node(&nats, "b", data.path(), TOKEN, &[]);
  says(&b, "before the crash").await;
  // The KV write: the count goes on from 1 on either node.
  assert_eq!(hits(&b).await, 2);
  assert_eq!(hits(&a).await, 3);
  // The queued message: a consumer deployed now gets it.
  deploy_to_cluster(&nats, &fixture("queues").join("recorder"));
  let delivered = wait_either(&a, &b, "queue-seen n=7 attempts=1");
  assert!(delivered.contains("queue-seen n=7"), "{delivered}");

  // The node that was running when the server died follows the cluster again.
  deploy_to_cluster(&nats, &greeting_app(source.path(), "after the restart"));
  for node in [&a, &b] {
    node.log.wait_for(&["activated from the cluster", "app", "2-"]);
    let reply = get_on(node, "app.edge.localhost", "/").await;
    assert_eq!((reply.status, reply.body.as_str()), (200, "after the restart"));
  }
}

/// Waits until `a` or `b` logs a line containing `part`; that line.
fn wait_either(a: &DevServer, b: &DevServer, part: &str) -> String {
  let deadline = std::time::Instant::now() + PROCESS_DEADLINE;
  loop {
    for log in [&a.log, &b.log] {
      if let Some(line) = log.text().lines().find(|l| l.contains(part)) {
        return line.to_owned();
      }
    }
    assert!(
      std::time::Instant::now() < deadline,
      "no node logged {part:?}:\n{}\n{}",
      a.log.text(),
      b.log.text()
    );
    // Two logs to watch: looked at again every 50 ms, bounded by the deadline.
    std::thread::sleep(std::time::Duration::from_millis(50));
  }
}

#[tokio::test]
async fn a_node_says_what_the_cluster_could_lose() {
  let nats = Nats::start();
  let data = tempfile::tempdir().unwrap();
  // nats-server's default: files flushed every two minutes.
  let a = DevServer::cluster_node(&nats, "a", data.path(), TOKEN, &["--cluster-monitor", &nats.monitor]);
  let line = a.log.wait_for(&["nats-server flushes JetStream to disk only every 120s"]);
  assert!(line.contains("sync_interval: always"), "{line}");
  a.log.wait_for(&["cluster_replicas = 1", "one copy", "three nats-servers"]);
  // No monitoring endpoint: the node cannot tell, and says so.
  let b = DevServer::cluster_node(&nats, "b", data.path(), TOKEN, &[]);
  b.log.wait_for(&["cannot tell whether nats-server syncs writes to disk", "cluster_monitor"]);
  // A monitoring endpoint that is not one.
  let c = DevServer::cluster_node(&nats, "c", data.path(), TOKEN, &["--cluster-monitor", &a.admin_url()]);
  c.log.wait_for(&["cannot read nats-server's settings", "/varz"]);

  // Three copies on one server: refused with the reason, and the node serves what it has.
  let dir = data.path().join("d");
  let args = [
    "--cluster",
    &nats.url,
    "--node-id",
    "d",
    "--data-dir",
    dir.to_str().unwrap(),
    "--admin-token",
    TOKEN,
    "--cluster-replicas",
    "3",
  ];
  let d =
    DevServer::try_start_node(&args.map(std::ffi::OsStr::new)).unwrap_or_else(|f| panic!("{}", f.stderr));
  d.log.wait_for(&["cluster_replicas = 3 needs a NATS cluster of at least 3 JetStream servers"]);
  assert_eq!(get_on(&d, "nothing.edge.localhost", "/").await.status, 404);
  // The streams kept their one copy, and the cluster still works for the others.
  let source = tempfile::tempdir().unwrap();
  deploy_to_cluster(&nats, &greeting_app(source.path(), "still one copy"));
  says(&a, "still one copy").await;
}

#[test]
fn a_replica_count_out_of_range_is_refused() {
  let data = tempfile::tempdir().unwrap();
  let data_dir = data.path().to_str().unwrap();
  for (count, monitor) in
    [("0", "http://127.0.0.1:8222"), ("7", "http://127.0.0.1:8222"), ("3", "127.0.0.1:8222")]
  {
    let (code, _, err) = run_edge(&[
      "node",
      "--cluster",
      "nats://127.0.0.1:4222",
      "--data-dir",
      data_dir,
      "--admin-token",
      TOKEN,
      "--cluster-replicas",
      count,
      "--cluster-monitor",
      monitor,
    ]);
    assert_ne!(code, 0, "{err}");
    if count == "3" {
      assert!(
        err.contains("cluster_monitor \"127.0.0.1:8222\": give nats-server's monitoring endpoint"),
        "{err}"
      );
    } else {
      assert!(err.contains(&format!("cluster_replicas = {count}: JetStream keeps 1 to 5 copies")), "{err}");
    }
  }
}

/// `edge deploy <dir> --cluster <url> --wait`, tried again while the servers elect new
/// leaders after one died (each failure a clear error, which the last attempt shows).
fn deploy_while_electing(url: &str, dir: &Path, node: &DevServer) -> String {
  let deadline = std::time::Instant::now() + PROCESS_DEADLINE;
  loop {
    let (code, out, err) = run_edge(&["deploy", dir.to_str().unwrap(), "--cluster", url, "--wait"]);
    if code == 0 {
      return out;
    }
    eprintln!("deploy attempt failed ({code}):\n{out}\n{err}");
    assert!(
      std::time::Instant::now() < deadline,
      "deploy failed until the deadline:\n{out}\n{err}\nthe node's log:\n{}",
      node.log.text()
    );
    // The next attempt after a beat: an election takes a few hundred milliseconds.
    std::thread::sleep(std::time::Duration::from_millis(250));
  }
}

/// Every stream's copies, as the server with monitoring endpoint `monitor` reports them.
async fn copies(monitor: &str) -> Vec<(String, u64)> {
  let reply = send(
    http::Request::get(format!("{monitor}/jsz?streams=true&config=true")).body(Default::default()).unwrap(),
  )
  .await;
  assert_eq!(reply.status, 200, "{}", reply.body);
  let mut found = Vec::new();
  for account in reply.json()["account_details"].as_array().cloned().unwrap_or_default() {
    for stream in account["stream_detail"].as_array().cloned().unwrap_or_default() {
      let name = stream["name"].as_str().unwrap_or_default().to_owned();
      found.push((name, stream["config"]["num_replicas"].as_u64().unwrap_or(0)));
    }
  }
  found.sort();
  found
}

/// Waits until every server's `/healthz` says its JetStream is current with the cluster.
async fn healthy(nats: &NatsCluster) {
  let deadline = std::time::Instant::now() + PROCESS_DEADLINE;
  for monitor in &nats.monitors {
    loop {
      let reply =
        send(http::Request::get(format!("{monitor}/healthz")).body(Default::default()).unwrap()).await;
      if reply.status == 200 {
        break;
      }
      assert!(std::time::Instant::now() < deadline, "{monitor}/healthz: {} {}", reply.status, reply.body);
      tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
  }
}

#[tokio::test]
async fn with_three_copies_the_cluster_loses_nothing_when_a_nats_server_dies() {
  let mut nats = NatsCluster::start(3);
  healthy(&nats).await;
  let data = tempfile::tempdir().unwrap();
  let source = tempfile::tempdir().unwrap();
  let a = DevServer::cluster_node_at(
    &nats.urls[0],
    "a",
    data.path(),
    TOKEN,
    &["--cluster-replicas", "3", "--cluster-monitor", &nats.monitors[0]],
  );
  a.log.wait_for(&["nats-server syncs every write to disk before acknowledging it"]);
  assert!(
    !a.log.text().contains("production runs three nats-servers"),
    "three copies are not warned about:\n{}",
    a.log.text()
  );
  let out = deploy_while_electing(&nats.urls[0], &greeting_app(source.path(), "three copies"), &a);
  assert!(out.contains("active on 1 node(s)"), "{out}");
  let first = out.strip_prefix("deployed app version ").and_then(|rest| rest.split_whitespace().next());
  let first = first.unwrap_or_else(|| panic!("{out}")).to_owned();
  deploy_while_electing(&nats.urls[0], &sample("kv-counter"), &a);
  assert_eq!(hits(&a).await, 1);

  // Every stream the node made: three copies (the deploys' buckets, the bundles, the KV namespace).
  let streams = copies(&nats.monitors[1]).await;
  for wanted in ["KV_edge-workers", "KV_edge-nodes", "OBJ_edge-bundles"] {
    assert!(streams.iter().any(|(name, _)| name == wanted), "{wanted} in {streams:?}");
  }
  assert!(streams.iter().any(|(name, _)| name.starts_with("KV_") && name.contains("counter")), "{streams:?}");
  assert!(streams.iter().all(|(_, copies)| *copies == 3), "{streams:?}");

  // The server the node and the CLI talked to dies; the other two hold everything.
  nats.kill(0);
  // (A deploy whose wait timed out in the election still landed: the last one is active.)
  let out = deploy_while_electing(&nats.urls[1], &greeting_app(source.path(), "one server down"), &a);
  let version = out.strip_prefix("deployed app version ").and_then(|rest| rest.split_whitespace().next());
  let version = version.unwrap_or_else(|| panic!("{out}")).to_owned();
  a.log.wait_for(&["activated from the cluster", "app", &version]);
  let reply = get_on(&a, "app.edge.localhost", "/").await;
  assert_eq!((reply.status, reply.body.as_str()), (200, "one server down"));
  assert_eq!(hits(&a).await, 2);
  let (code, versions, err) = run_edge(&["versions", "app", "--cluster", &nats.urls[2]]);
  assert_eq!(code, 0, "{err}");
  assert!(
    versions.lines().next().is_some_and(|l| l.contains(&first)),
    "the first version is kept: {versions}"
  );
  assert!(versions.lines().last().is_some_and(|l| l.starts_with(&format!("* {version}"))), "{versions}");
}
