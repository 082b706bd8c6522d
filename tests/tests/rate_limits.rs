//! Per-worker request-rate limits (`[rate_limit]` in `edge.toml`): a burst passes, the next
//! request gets `429` with `retry-after` and a message naming the limit, other workers are not
//! affected, the refusals are counted, and an impossible limit is refused when the worker is
//! read.

use std::path::Path;
use std::process::Command;

use edge_tests::*;

fn write(root: &Path, name: &str, toml: &str) {
  let dir = root.join(name);
  std::fs::create_dir_all(&dir).unwrap();
  std::fs::write(dir.join("edge.toml"), toml).unwrap();
  std::fs::write(dir.join("worker.js"), "export default { fetch: () => new Response('ok') };").unwrap();
}

#[tokio::test]
async fn a_burst_passes_then_requests_wait_their_turn() {
  let root = tempfile::tempdir().unwrap();
  // One request every 100 s, in bursts of 3: the test never waits for a refill.
  write(root.path(), "limited", "name = \"limited\"\n[rate_limit]\nrequests_per_second = 0.01\nburst = 3\n");
  write(root.path(), "free", "name = \"free\"\n");
  let server = DevServer::node(root.path(), &[]);
  for _ in 0..3 {
    assert_eq!(get_on(&server, "limited.edge.localhost", "/").await.status, 200);
  }
  let refused = get_on(&server, "limited.edge.localhost", "/").await;
  assert_eq!(refused.status, 429);
  let retry_after: u64 = refused.header("retry-after").parse().unwrap();
  assert!((90..=100).contains(&retry_after), "retry-after {retry_after}");
  assert!(
    refused
      .body
      .starts_with("429 Too Many Requests: limited takes 0.01 requests a second (bursts of 3); retry after"),
    "{}",
    refused.body
  );
  assert!(!refused.header("x-request-id").is_empty());
  for _ in 0..10 {
    assert_eq!(get_on(&server, "free.edge.localhost", "/").await.status, 200);
  }
  let metrics = server.metrics().await;
  assert!(metrics.contains("edge_requests_total{worker=\"limited\",status=\"429\"} 1"), "{metrics}");
  assert!(metrics.contains("edge_requests_total{worker=\"limited\",status=\"200\"} 3"), "{metrics}");
}

#[test]
fn an_impossible_limit_is_refused_when_the_worker_is_read() {
  let root = tempfile::tempdir().unwrap();
  write(root.path(), "never", "name = \"never\"\n[rate_limit]\nrequests_per_second = 0\n");
  let output =
    Command::new(edge_bin()).args(["dev", root.path().join("never").to_str().unwrap()]).output().unwrap();
  assert!(!output.status.success());
  let stderr = String::from_utf8_lossy(&output.stderr);
  assert!(stderr.contains("rate_limit: requests_per_second = 0: use 0.001 to 1000000"), "{stderr}");
}
