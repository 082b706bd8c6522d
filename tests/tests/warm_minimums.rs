//! Warm minimums (`min_warm = N` in `edge.toml`): the node boots N isolates of the worker
//! without a request, the idle timeout that evicts other workers leaves them resident, and the
//! worker's requests are warm; the cold-start ratio per worker is a metric.

use std::path::Path;

use edge_tests::*;

fn write(root: &Path, name: &str, toml: &str) {
  let dir = root.join(name);
  std::fs::create_dir_all(&dir).unwrap();
  std::fs::write(dir.join("edge.toml"), toml).unwrap();
  std::fs::write(dir.join("worker.js"), "export default { fetch: () => new Response('ok') };").unwrap();
}

async fn start_of(server: &DevServer, worker: &str) -> String {
  let reply = get_on(server, &format!("{worker}.edge.localhost"), "/").await;
  assert_eq!(reply.status, 200);
  // `start;desc="cold"`, without the duration a start that booted an isolate adds.
  let start = reply.header("server-timing").split(',').next().unwrap();
  start.split(";dur=").next().unwrap().to_owned()
}

#[tokio::test]
async fn warm_isolates_outlive_the_idle_timeout() {
  let root = tempfile::tempdir().unwrap();
  write(root.path(), "pinned", "name = \"pinned\"\nmin_warm = 2\n");
  write(root.path(), "plain", "name = \"plain\"\n");
  let server = DevServer::node(root.path(), &["--idle-timeout-secs", "1"]);
  // Two isolates, booted without a request.
  server.log.wait_for(&["kept warm", "worker=\"pinned\""]);
  let resident = metric(&server.metrics().await, "edge_resident_isolates");
  assert_eq!(resident, 2.0);

  assert_eq!(start_of(&server, "pinned").await, "start;desc=\"warm\"");
  assert_eq!(start_of(&server, "plain").await, "start;desc=\"cold\"");
  // The idle timeout evicts plain; pinned, idle for longer, stays.
  server.log.wait_for(&["worker evicted", "worker=plain", "cause=\"idle\""]);
  assert_eq!(start_of(&server, "pinned").await, "start;desc=\"warm\"");
  assert_eq!(start_of(&server, "plain").await, "start;desc=\"cold\"");
  assert!(!server.log.text().contains("worker evicted worker=pinned"), "{}", server.log.text());

  let metrics = server.metrics().await;
  assert!(metrics.contains("edge_cold_start_ratio{worker=\"pinned\"} 0.0"), "{metrics}");
  assert!(metrics.contains("edge_cold_start_ratio{worker=\"plain\"} 1.0"), "{metrics}");
}
