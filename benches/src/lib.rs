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
