//! Nothing acknowledged is lost in a cluster: against a real nats-server run with
//! `sync_interval: always`, a deploy, a KV write and a queued message acknowledged just
//! before the server is SIGKILLed are all there after its restart, and the nodes catch up
//! (a running node reconnects and follows new deploys, a new node serves what was deployed).
//! A node says at start what the cluster could lose: one copy, a server that acknowledges
//! before syncing, or one whose settings it cannot read; and a replica count the servers
//! cannot hold, or out of range, is a clear error.

use std::path::Path;

use edge_tests::*;

const TOKEN: &str = "durability-token-0123456789";

/// Writes version `greeting` of the worker `app` into `root/app`.
fn app(root: &Path, greeting: &str) -> std::path::PathBuf {
  let dir = root.join("app");
  std::fs::create_dir_all(&dir).unwrap();
  std::fs::write(dir.join("edge.toml"), format!("name = \"app\"\n[vars]\nGREETING = \"{greeting}\"\n"))
    .unwrap();
  std::fs::write(dir.join("worker.js"), "export default { fetch: (r, env) => new Response(env.GREETING) };")
    .unwrap();
  dir
}

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
  deploy_to_cluster(&nats, &app(source.path(), "before the crash"));
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
  deploy_to_cluster(&nats, &app(source.path(), "after the restart"));
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
  deploy_to_cluster(&nats, &app(source.path(), "still one copy"));
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
