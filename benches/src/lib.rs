//! Shared support for the benchmarks: sample workers loaded the way the node loads them.

use std::path::Path;

use edge_node::manifest::LoadedWorker;
use edge_runtime::WorkerRequest;

/// Reads `sample-workers/<name>`.
pub fn sample(name: &str) -> LoadedWorker {
  let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("../sample-workers").join(name);
  edge_node::manifest::load_worker(&path, &edge_runtime::Limits::default())
    .unwrap_or_else(|e| panic!("sample {name}: {e}"))
}

/// A body-less `GET` of `path`.
pub fn get(path: &str) -> WorkerRequest {
  WorkerRequest {
    method: http::Method::GET,
    url: format!("http://bench.localhost{path}"),
    headers: http::HeaderMap::new(),
    body: None,
    request_id: None,
  }
}

/// A console that discards worker output.
pub fn quiet() -> edge_runtime::ConsoleFn {
  std::sync::Arc::new(|_: &edge_runtime::ConsoleLine| {})
}

/// The release `edge` binary next to the running benchmark (`target/release/edge`), for the
/// benchmarks that run whole processes; build it first with `cargo build --release -p edge-node`.
pub fn edge_bin() -> std::path::PathBuf {
  // target/release/deps/<bench>-<hash> -> target/release/edge
  let exe = std::env::current_exe().expect("own path");
  let bin = exe.parent().and_then(Path::parent).expect("target/release").join("edge");
  assert!(
    bin.exists(),
    "{} is missing: build it first with `cargo build --release -p edge-node`",
    bin.display()
  );
  bin
}

/// A child process, killed when dropped.
#[derive(Debug)]
pub struct Process(pub std::process::Child);

impl Drop for Process {
  fn drop(&mut self) {
    let _ = self.0.kill();
    let _ = self.0.wait();
  }
}
