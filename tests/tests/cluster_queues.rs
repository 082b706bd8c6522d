//! Queues in a cluster of three nodes and a real nats-server (JetStream): the nodes running a
//! consumer share its messages (each delivered once) while a second consumer gets every
//! message too; ack, retry and dead letters; a node killed mid-batch has its batch delivered
//! again on another node; `edge queues --cluster`. Fixtures as in `queues.rs`.

use std::collections::BTreeMap;
use std::path::Path;

use edge_tests::*;

const TOKEN: &str = "cluster-queues-token-0123456789";

fn edge(nats: &Nats, args: &[&str]) -> (i32, String, String) {
  run_edge(&[args, &["--cluster", &nats.url]].concat())
}

/// Three nodes serving the producer and both consumers, deployed to the cluster.
fn cluster(nats: &Nats, data: &Path) -> Vec<DevServer> {
  let nodes: Vec<DevServer> =
    ["a", "b", "c"].iter().map(|id| DevServer::cluster_node(nats, id, data, TOKEN, &[])).collect();
  for worker in ["producer", "recorder", "audit"] {
    deploy_to_cluster(nats, &fixture("queues").join(worker));
  }
  nodes
}

async fn send_jobs(server: &DevServer, jobs: serde_json::Value) {
  let reply = post_on(server, "producer.edge.localhost", "/", jobs.to_string()).await;
  assert_eq!(reply.status, 200, "{}", reply.body);
}

fn job(n: u32, mode: &str) -> serde_json::Value {
  serde_json::json!({ "n": n, "mode": mode })
}

/// How many times each job was delivered on all nodes together, from their logs.
fn deliveries(nodes: &[&DevServer], marker: &str) -> BTreeMap<u32, usize> {
  let mut counts = BTreeMap::new();
  for node in nodes {
    for line in node.log.text().lines() {
      if let Some(rest) = line.split(marker).nth(1) {
        let n: u32 = rest.split(' ').next().unwrap().trim().parse().unwrap();
        *counts.entry(n).or_default() += 1;
      }
    }
  }
  counts
}

/// Waits until some node's log has a line with every one of `parts`; that node's index.
fn wait_any(nodes: &[&DevServer], parts: &[&str]) -> usize {
  let deadline = std::time::Instant::now() + std::time::Duration::from_secs(60);
  loop {
    for (i, node) in nodes.iter().enumerate() {
      if node.log.text().lines().any(|l| parts.iter().all(|p| l.contains(p))) {
        return i;
      }
    }
    assert!(std::time::Instant::now() < deadline, "no node logged {parts:?}");
    std::thread::sleep(std::time::Duration::from_millis(50));
  }
}

#[tokio::test]
async fn nodes_share_a_consumer_and_every_consumer_gets_every_message() {
  let nats = Nats::start();
  let data = tempfile::tempdir().unwrap();
  let nodes = cluster(&nats, data.path());
  let all: Vec<&DevServer> = nodes.iter().collect();
  let jobs: Vec<serde_json::Value> = (1..=30).map(|n| job(n, "ok")).collect();
  send_jobs(&nodes[0], serde_json::Value::Array(jobs)).await;
  for n in 1..=30 {
    wait_any(&all, &[&format!("queue-seen n={n} attempts=1 ")]);
    wait_any(&all, &[&format!("audit-seen n={n}")]);
  }
  let recorded = deliveries(&all, "queue-seen n=");
  assert!(recorded.values().all(|count| *count == 1), "each job once: {recorded:?}");
  assert_eq!(recorded.len(), 30);
  // Batches of at most max_batch_size (5), however the nodes shared them.
  let sizes: Vec<usize> = all
    .iter()
    .flat_map(|node| {
      node
        .log
        .text()
        .lines()
        .filter_map(|l| l.split("batch=").nth(1)?.split(' ').next()?.parse().ok())
        .collect::<Vec<usize>>()
    })
    .collect();
  assert!(sizes.iter().all(|size| (1..=5).contains(size)), "{sizes:?}");
  let audited = deliveries(&all, "audit-seen n=");
  assert!(audited.values().all(|count| *count == 1) && audited.len() == 30, "{audited:?}");

  let (code, out, err) = edge(&nats, &["queues", "list"]);
  assert_eq!(code, 0, "{err}");
  assert!(out.contains("jobs: 30 message(s) kept") && out.contains("  recorder: backlog "), "{out}");
  // Straight to the cluster: the message reaches both consumers and shows in peek.
  let (code, out, err) = edge(&nats, &["queues", "send", "jobs", r#"{"n":99,"mode":"ok"}"#]);
  assert_eq!(code, 0, "{out}{err}");
  wait_any(&all, &["queue-seen n=99 attempts=1 "]);
  wait_any(&all, &["audit-seen n=99"]);
  let (code, out, err) = edge(&nats, &["queues", "peek", "jobs", "--count", "1"]);
  assert_eq!(code, 0, "{err}");
  assert!(out.contains(r#"json {"n":99,"mode":"ok"}"#), "{out}");
}

#[tokio::test]
async fn retries_dead_letters_and_a_node_killed_mid_batch() {
  let nats = Nats::start();
  let data = tempfile::tempdir().unwrap();
  let mut nodes = cluster(&nats, data.path());
  send_jobs(&nodes[0], serde_json::json!([job(1, "ok"), job(2, "retry"), job(3, "throw-once")])).await;
  {
    let all: Vec<&DevServer> = nodes.iter().collect();
    wait_any(&all, &["queue-seen n=3 attempts=2 "]);
    wait_any(&all, &["queue-seen n=2 attempts=3 "]);
    wait_any(&all, &["message dead-lettered", "jobs-dlq"]);
  }
  let (code, out, err) = edge(&nats, &["queues", "dlq", "jobs-dlq"]);
  assert_eq!(code, 0, "{err}");
  assert!(out.contains("\"n\":2") && out.contains("from jobs: gave up after 3 attempts"), "{out}");

  // The node that took the hanging batch dies; another node gets it once its lease runs out.
  send_jobs(&nodes[0], serde_json::json!([job(20, "hang-once")])).await;
  // Alone in its batch: the batch closed on its timeout.
  let taken = wait_any(&nodes.iter().collect::<Vec<_>>(), &["queue-seen n=20 attempts=1 batch=1 "]);
  nodes[taken].stop_with("KILL");
  let dead = nodes.remove(taken);
  let rest: Vec<&DevServer> = nodes.iter().collect();
  wait_any(&rest, &["queue-seen n=20 attempts=2 "]);
  drop(dead);
}
