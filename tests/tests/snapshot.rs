//! The Web APIs come from the embedded startup snapshot: a running node opens no
//! JavaScript file other than the worker's own modules.

use edge_tests::*;

#[tokio::test]
async fn no_javascript_is_read_from_disk_at_run_time() {
  let trace_dir = tempfile::tempdir().unwrap();
  let trace = trace_dir.path().join("opened.txt");
  let mut server = start_traced(&fixture("wintertc"), &trace);
  // Use the lazily loaded parts too: fetch, streams, crypto, console.
  for check in ["/crypto", "/streams", "/formdata", "/console", "/encoding"] {
    assert_eq!(get(&server.at(check)).await.status, 200, "{check}");
  }
  assert!(server.stop_with("TERM").success());
  let opened = std::fs::read_to_string(&trace).unwrap();
  assert!(opened.contains("wintertc/worker.js"), "the trace records the worker's own module:\n{opened}");
  let foreign: Vec<&str> = opened
    .lines()
    .filter(|line| line.contains(".js\"") || line.contains(".ts\"") || line.contains("/registry/"))
    .filter(|line| !line.contains("/fixtures/wintertc/"))
    .collect();
  assert!(foreign.is_empty(), "JavaScript read from disk at run time:\n{}", foreign.join("\n"));
}
