//! The node-wide memory ceiling (`--node-memory-mb`): thirty memory bombs at once keep the
//! node's resident memory under the ceiling plus its own overhead, each bomb gets a `503`
//! naming why it was stopped, a neighbour keeps answering `200`, and `/metrics` shows the
//! ceiling, what is granted, and what was stopped or refused. With isolate hosts
//! (`--recycle-hosts-after`) the ceiling holds over the node and all its hosts together.

use std::sync::atomic::AtomicBool;
use std::sync::atomic::AtomicU64;
use std::sync::atomic::Ordering;
use std::sync::Arc;

use edge_tests::*;

const BOMBS: usize = 30;

const TOKEN: &str = "memory-token-0123456789";

const BOMB: &str = r#"
export default {
  async fetch() {
    const keep = [];
    while (true) keep.push(new Uint8Array(1 << 20));
  },
};
"#;

/// Generous CPU and wall-clock limits, so that the bombs are stopped for memory, not time.
const BOMB_TOML: &str = "[limits]\ncpu_ms = 30000\nwall_ms = 60000\nmemory_mb = 128\n";

const HELLO: &str = "export default { fetch() { return new Response('hello'); } };";

/// How a bomb may be stopped: its own limit, the ceiling, or refused near the ceiling.
const REASONS: [&str; 3] = [
  "worker exceeded its memory limit",
  "worker was stopped to keep the node under its memory ceiling",
  "the node is near its memory ceiling",
];

fn workers() -> tempfile::TempDir {
  let dir = tempfile::tempdir().unwrap();
  for i in 0..BOMBS {
    let bomb = dir.path().join(format!("bomb-{i}"));
    std::fs::create_dir(&bomb).unwrap();
    std::fs::write(bomb.join("worker.js"), BOMB).unwrap();
    std::fs::write(bomb.join("edge.toml"), BOMB_TOML).unwrap();
  }
  let hello = dir.path().join("hello");
  std::fs::create_dir(&hello).unwrap();
  std::fs::write(hello.join("worker.js"), HELLO).unwrap();
  dir
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn thirty_memory_bombs_stay_under_the_ceiling_while_a_neighbour_answers() {
  thirty_bombs(&[]).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn with_isolate_hosts_the_ceiling_holds_over_all_of_them() {
  // Hosts retire after 20 isolates: the bombs' replacements spread over several hosts at once.
  thirty_bombs(&["--recycle-hosts-after", "20"]).await;
}

/// Thirty bombs at once under a ceiling of 1 GiB, with `extra` flags for the node.
async fn thirty_bombs(extra: &[&str]) {
  let dir = workers();
  let mut args = vec!["--node-memory-mb", "1024", "--admin-token", TOKEN];
  args.extend_from_slice(extra);
  let server = DevServer::node(dir.path(), &args);
  assert_eq!(get_on(&server, "hello.edge.localhost", "/").await.status, 200);
  let metrics = server.metrics().await;
  assert_eq!(metric(&metrics, "edge_node_memory_limit_bytes"), (1024u64 << 20) as f64);

  // The resident memory of the node and its hosts, sampled on a thread of its own while the
  // bombs run.
  let done = Arc::new(AtomicBool::new(false));
  let peak = Arc::new(AtomicU64::new(0));
  let sampler = {
    let (done, peak, pid) = (done.clone(), peak.clone(), server.pid());
    std::thread::spawn(move || {
      while !done.load(Ordering::Relaxed) {
        peak.fetch_max(tree_rss(pid), Ordering::Relaxed);
        std::thread::yield_now();
      }
    })
  };

  let bombs: Vec<_> = (0..BOMBS)
    .map(|i| {
      let request = http::Request::get(server.at("/"))
        .header("host", format!("bomb-{i}.edge.localhost"))
        .body(Default::default())
        .unwrap();
      tokio::spawn(send(request))
    })
    .collect();
  // The neighbour answers throughout.
  let mut neighbour = 0;
  while !bombs.iter().all(|bomb| bomb.is_finished()) {
    let reply = get_on(&server, "hello.edge.localhost", "/").await;
    assert_eq!(
      (reply.status, reply.body.as_str()),
      (200, "hello"),
      "the neighbour answers while the bombs run"
    );
    neighbour += 1;
  }
  let mut by_ceiling = 0;
  for bomb in bombs {
    let reply = bomb.await.unwrap();
    assert_eq!(reply.status, 503, "{}", reply.body);
    assert!(
      REASONS.iter().any(|reason| reply.body.contains(reason)),
      "a bomb's 503 names why: {}\n{}",
      reply.body,
      server.log.text()
    );
    by_ceiling += usize::from(!reply.body.contains(REASONS[0]));
  }
  done.store(true, Ordering::Relaxed);
  sampler.join().unwrap();
  let peak = peak.load(Ordering::Relaxed);
  assert!(peak < 1536 << 20, "the node's resident memory (its hosts' with it) peaked at {} MiB", peak >> 20);
  assert!(neighbour > 0);
  // Thirty bombs of 128 MiB each cannot all fit in 1024 MiB: the ceiling stopped or refused some.
  assert!(by_ceiling > 0, "no bomb was stopped by the ceiling");

  let metrics = server.metrics().await;
  let stopped = metric(&metrics, "edge_node_memory_stopped_isolates_total");
  let refused = metric(&metrics, "edge_node_memory_refused_starts_total");
  assert!(
    stopped + refused >= by_ceiling as f64,
    "stopped {stopped} + refused {refused} < {by_ceiling}\n{metrics}"
  );
  assert!(metric(&metrics, "edge_node_memory_granted_bytes") <= (1024u64 << 20) as f64);
  assert!(metric(&metrics, "edge_node_resident_memory_bytes") > 0.0);
  if stopped > 0.0 {
    server.log.wait_for(&["node memory ceiling reached"]);
  }
  // The dashboard shows the ceiling and what was stopped or refused at it.
  let data = get_authorized(&format!("{}/dashboard/data.json", server.admin_url()), TOKEN).await;
  let memory = &data.json()["memory"];
  assert_eq!(memory["limit_mb"], 1024, "{memory}");
  assert!(memory["granted_mb"].as_u64().unwrap() > 0, "{memory}");
  assert!(memory["resident_mb"].as_u64().unwrap() > 0, "{memory}");
  assert_eq!(memory["stopped"].as_u64().unwrap() as f64, stopped, "{memory}");
  let live = get_authorized(&format!("{}/dashboard/live", server.admin_url()), TOKEN).await;
  assert!(live.body.contains("id=\"card-memory\"") && live.body.contains("/ 1024 MiB"), "{}", live.body);
  // Once the stopped isolates are gone, there is room again: a lone bomb starts, and with the
  // ceiling to itself it is stopped by its own limit.
  server.metrics_until(|m| metric(m, "edge_node_memory_granted_bytes") < (512u64 << 20) as f64).await;
  let lone = get_on(&server, "bomb-0.edge.localhost", "/").await;
  assert_eq!(lone.status, 503);
  assert!(lone.body.contains(REASONS[0]), "{}", lone.body);
  assert_eq!(get_on(&server, "hello.edge.localhost", "/").await.status, 200);
}

#[test]
fn a_ceiling_below_a_workers_own_limit_is_refused_with_a_clear_error() {
  let dir = workers();
  let failed = DevServer::try_start_node(&[
    "--workers-dir".as_ref(),
    dir.path().as_os_str(),
    "--node-memory-mb".as_ref(),
    "64".as_ref(),
  ])
  .err()
  .expect("a ceiling below limits.memory_mb is refused");
  assert!(failed.stderr.contains("node_memory_mb = 64 is below limits.memory_mb (128)"), "{}", failed.stderr);
}
