//! The warm-worker cache of `edge node`: concurrent first requests boot a worker once,
//! idle workers and workers beyond the capacity are evicted (and boot again when called),
//! and a redeployed worker gets a new entry while requests on the old version finish there.

use std::path::Path;

use edge_tests::*;

fn write_worker(root: &Path, name: &str, source: &str) {
  let dir = root.join(name);
  std::fs::create_dir_all(&dir).unwrap();
  std::fs::write(dir.join("worker.js"), source).unwrap();
}

/// Polls the node's metrics until `done` holds (each poll a real scrape), bounded by
/// [`PROCESS_DEADLINE`]; returns the last scrape.
async fn metrics_until(server: &DevServer, done: impl Fn(&str) -> bool) -> String {
  let deadline = std::time::Instant::now() + PROCESS_DEADLINE;
  let mut interval = tokio::time::interval(std::time::Duration::from_millis(100));
  loop {
    interval.tick().await;
    let text = server.metrics().await;
    if done(&text) {
      return text;
    }
    assert!(std::time::Instant::now() < deadline, "metrics never got there:\n{text}");
  }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn fifty_concurrent_first_requests_boot_the_worker_once() {
  let root = tempfile::tempdir().unwrap();
  write_worker(root.path(), "once", "export default { fetch: () => new Response('once') };");
  let server = std::sync::Arc::new(DevServer::node(root.path(), &[]));
  let before = server.metrics().await;
  assert_eq!(
    metric(&before, "edge_cold_starts_total{worker=\"once\"}"),
    0.0,
    "a node boots workers on demand"
  );
  let requests: Vec<_> = (0..50)
    .map(|_| {
      let server = server.clone();
      tokio::spawn(async move { get_on(&server, "once.edge.localhost", "/").await })
    })
    .collect();
  for request in requests {
    let reply = request.await.unwrap();
    assert_eq!((reply.status, reply.body.as_str()), (200, "once"));
  }
  let text = server.metrics().await;
  assert_eq!(metric(&text, "edge_cold_starts_total{worker=\"once\"}"), 1.0, "{text}");
  let served = metric(&text, "edge_cold_starts_total{worker=\"once\"}")
    + metric(&text, "edge_coalesced_starts_total{worker=\"once\"}")
    + metric(&text, "edge_scale_outs_total{worker=\"once\"}")
    + metric(&text, "edge_warm_hits_total{worker=\"once\"}");
  assert_eq!(served, 50.0, "every request is counted once by how it got its isolate:\n{text}");
  assert_eq!(metric(&text, "edge_requests_total{worker=\"once\",status=\"200\"}"), 50.0);
}

#[tokio::test]
async fn an_idle_worker_is_evicted_and_boots_again_when_called() {
  let server = DevServer::node(&sample(""), &["--idle-timeout-secs", "1"]);
  let first = get_on(&server, "hello.edge.localhost", "/").await;
  assert!(first.header("server-timing").starts_with("start;desc=\"cold\""), "{:?}", first.headers);
  let second = get_on(&server, "hello.edge.localhost", "/").await;
  assert!(second.header("server-timing").starts_with("start;desc=\"warm\""), "{:?}", second.headers);
  let text = metrics_until(&server, |m| metric(m, "edge_evictions_total{cause=\"idle\"}") >= 1.0).await;
  assert_eq!(metric(&text, "edge_cached_workers"), 0.0, "{text}");
  server.log.wait_for(&["worker evicted", "hello", "idle"]);
  let again = get_on(&server, "hello.edge.localhost", "/").await;
  assert_eq!(again.body, "Hello from the edge!\n");
  assert!(again.header("server-timing").starts_with("start;desc=\"cold\""), "{:?}", again.headers);
  let text = server.metrics().await;
  assert_eq!(metric(&text, "edge_cold_starts_total{worker=\"hello\"}"), 2.0, "{text}");
}

#[tokio::test]
async fn workers_beyond_the_capacity_evict_the_least_recently_used() {
  // 16 MiB holds about three isolates of these workers (each measures about 5 MiB).
  let server =
    DevServer::node(&sample(""), &["--cache-mb", "16", "--memory-mb", "16", "--isolates-per-worker", "1"]);
  let workers = ["hello", "json", "env", "modules", "service-worker", "echo"];
  for round in 0..2 {
    for worker in workers {
      let reply = get_on(&server, &format!("{worker}.edge.localhost"), "/").await;
      assert_eq!(reply.status, 200, "{worker} in round {round}: {}", reply.body);
    }
  }
  let text = server.metrics().await;
  assert!(metric(&text, "edge_evictions_total{cause=\"capacity\"}") >= 6.0, "{text}");
  assert!(metric(&text, "edge_cache_weight_kibibytes") <= 16.0 * 1024.0, "{text}");
  assert!(metric(&text, "edge_cached_workers") < workers.len() as f64, "{text}");
  // The least recently used went first: the second round found none of them resident.
  assert_eq!(metric(&text, "edge_cold_starts_total{worker=\"hello\"}"), 2.0, "{text}");
  // Nothing stays resident but what the cache holds.
  let resident =
    metrics_until(&server, |m| metric(m, "edge_resident_isolates") == metric(m, "edge_cached_workers")).await;
  assert!(metric(&resident, "edge_resident_isolates") >= 1.0, "{resident}");
}

#[tokio::test]
async fn a_redeploy_replaces_the_entry_and_running_requests_finish_on_the_old_version() {
  let root = tempfile::tempdir().unwrap();
  // The worker answers once the whole request body has arrived: a request can be held open
  // on a version while the next one is deployed.
  let source = |version: &str| {
    format!("export default {{ async fetch(request) {{ const body = await request.text(); return new Response('{version} ' + body); }} }};")
  };
  write_worker(root.path(), "app", &source("v1"));
  let server = DevServer::node(root.path(), &[]);
  assert_eq!(get_on(&server, "app.edge.localhost", "/").await.body, "v1 ");

  let (mut writer, body) = StreamedBody::channel();
  let request = http::Request::post(server.at("/")).header("host", "app.edge.localhost").body(body).unwrap();
  let held = tokio::spawn(async move { StreamedBody::send(request).await });
  writer.send("started on v1").await;
  // The held request has its isolate once it counts as a warm hit.
  metrics_until(&server, |m| metric(m, "edge_warm_hits_total{worker=\"app\"}") == 1.0).await;

  write_worker(root.path(), "app", &source("v2"));
  server.signal("HUP");
  server.log.wait_for(&["reloaded the workers folder", "deployed=1"]);
  assert_eq!(get_on(&server, "app.edge.localhost", "/").await.body, "v2 ");
  let text = server.metrics().await;
  assert_eq!(metric(&text, "edge_evictions_total{cause=\"invalidated\"}"), 1.0, "{text}");

  writer.send(", finished").await;
  drop(writer);
  let reply = held.await.unwrap();
  assert_eq!((reply.status, reply.body.as_str()), (200, "v1 started on v1, finished"));
  server.log.wait_for(&["edge::request", "worker=\"app\"", "version=\"v2-"]);
}

#[tokio::test]
async fn a_redeploy_that_does_not_start_keeps_the_running_version() {
  let root = tempfile::tempdir().unwrap();
  write_worker(root.path(), "app", "export default { fetch: () => new Response('v1') };");
  let server = DevServer::node(root.path(), &[]);
  assert_eq!(get_on(&server, "app.edge.localhost", "/").await.body, "v1");
  write_worker(root.path(), "app", "throw new Error('broken at load');");
  server.signal("HUP");
  server.log.wait_for(&["not deployed", "broken at load"]);
  assert_eq!(get_on(&server, "app.edge.localhost", "/").await.body, "v1");
}
