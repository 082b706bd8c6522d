//! Churn: 10,000 cold starts cycling through 2,000 distinct workers with room for about 100
//! resident (a 512 MiB warm-worker cache of isolates measuring about 5 MiB each), isolates in host processes that are retired and replaced. Every response is
//! the right worker's, and the node's memory (with its hosts) stays bounded.

use std::sync::Arc;

use edge_tests::*;

const WORKERS: usize = 2_000;
const COLD_STARTS: usize = 10_000;
const MAX_RSS: u64 = 2 * 1024 * 1024 * 1024;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn ten_thousand_cold_starts_through_two_thousand_workers_stay_bounded() {
  let root = tempfile::tempdir().unwrap();
  let mut paths = Vec::with_capacity(WORKERS);
  for i in 0..WORKERS {
    let dir = root.path().join(format!("w{i}"));
    std::fs::create_dir(&dir).unwrap();
    std::fs::write(
      dir.join("worker.js"),
      format!("export default {{ fetch() {{ return new Response('w{i}'); }} }};\n"),
    )
    .unwrap();
    paths.push(dir);
  }
  let server = Arc::new(DevServer::start_with(
    &paths,
    &["--cache-mb", "512", "--recycle-hosts-after", "250", "--isolates-per-worker", "1"],
  ));

  // Four clients; each request goes to a worker that is most likely not resident.
  let mut clients = Vec::new();
  for client in 0..4 {
    let server = server.clone();
    clients.push(tokio::spawn(async move {
      let mut peak = 0;
      for n in (client..COLD_STARTS).step_by(4) {
        let worker = (n * 7919) % WORKERS;
        let request = http::Request::get(server.at("/"))
          .header("host", format!("w{worker}.localhost"))
          .body(Default::default())
          .unwrap();
        let reply = send(request).await;
        assert_eq!((reply.status, reply.body.as_str()), (200, format!("w{worker}").as_str()), "request {n}");
        if n % 500 == client {
          peak = peak.max(server.total_rss());
        }
      }
      peak
    }));
  }
  let mut peak = 0;
  for client in clients {
    peak = peak.max(client.await.unwrap());
  }
  peak = peak.max(server.total_rss());
  eprintln!("peak RSS of the node and its hosts: {} MiB", peak >> 20);
  assert!(peak < MAX_RSS, "the node and its hosts peaked at {} MiB", peak >> 20);
  // The bound comes from retiring hosts: several must have been retired and replaced.
  server.log.wait_for(&["retiring an isolate host"]);
}
