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

#[tokio::test]
async fn the_engine_writes_no_shared_bytecode_cache() {
  let cache = tempfile::tempdir().unwrap();
  let mut server = DevServer::start_command(
    std::process::Command::new(edge_bin())
      .env_remove("V82JSC_NO_BC_CACHE")
      .env_remove("V82JSC_BC_CACHE_DIR")
      .env("XDG_CACHE_HOME", cache.path())
      .env("HOME", cache.path()),
    &[&sample("modules")],
  )
  .unwrap_or_else(|failed| panic!("edge dev failed: {}", failed.stderr));
  assert_eq!(get(&server.at("/")).await.status, 200);
  assert!(server.stop_with("TERM").success());
  let written: Vec<_> = walk(cache.path());
  assert!(written.is_empty(), "the engine wrote compiled tenant code to disk: {written:?}");
}

fn walk(dir: &std::path::Path) -> Vec<std::path::PathBuf> {
  let mut files = Vec::new();
  for entry in std::fs::read_dir(dir).unwrap() {
    let path = entry.unwrap().path();
    if path.is_dir() {
      files.extend(walk(&path));
    } else {
      files.push(path);
    }
  }
  files
}
