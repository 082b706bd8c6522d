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

/// Starts `edge <args>` (quiet logs) and returns it with the first `http://` address it prints.
pub fn start_edge(args: &[&str]) -> (Process, String) {
  use std::io::BufRead as _;
  let mut child = std::process::Command::new(edge_bin())
    .args(args)
    .env("EDGE_LOG", "warn")
    .stdout(std::process::Stdio::piped())
    .stderr(std::process::Stdio::null())
    .spawn()
    .expect("start edge");
  let stdout = child.stdout.take().unwrap();
  let mut lines = std::io::BufReader::new(stdout).lines();
  let url = loop {
    let line = lines.next().expect("edge printed its address").expect("read");
    if let Some(at) = line.find("http://") {
      break line[at..].split_whitespace().next().unwrap().to_owned();
    }
  };
  // Keep draining stdout so the process never blocks on it.
  std::thread::spawn(move || for _ in lines {});
  (Process(child), url)
}

/// Prints `what`'s p50, p90 and p99; returns (p50, p99) in seconds.
pub fn report_latencies(what: &str, samples: &mut [std::time::Duration]) -> (f64, f64) {
  samples.sort();
  let at = |q: f64| samples[((samples.len() as f64 * q).ceil() as usize).clamp(1, samples.len()) - 1];
  let us = |d: std::time::Duration| d.as_secs_f64() * 1e6;
  println!(
    "  {what:<26} p50 {:>7.1} µs  p90 {:>7.1} µs  p99 {:>7.1} µs",
    us(at(0.5)),
    us(at(0.9)),
    us(at(0.99))
  );
  (at(0.5).as_secs_f64(), at(0.99).as_secs_f64())
}

/// Sends `requests` GETs of `/` for `hello.edge.localhost` (with `headers`) to `a` and to `b`,
/// one at a time on kept-alive connections, alternating in `rounds` so that both see the same
/// machine, after 500 of each for warm-up; returns each one's latencies.
pub async fn compare_sequential(
  a: &str,
  b: &str,
  headers: &[(&str, &str)],
  requests: usize,
  rounds: usize,
) -> (Vec<std::time::Duration>, Vec<std::time::Duration>) {
  use http_body_util::BodyExt as _;
  type Empty = http_body_util::Empty<bytes::Bytes>;
  let client =
    hyper_util::client::legacy::Client::builder(hyper_util::rt::TokioExecutor::new()).build_http::<Empty>();
  let once = |url: &str| {
    let mut request = http::Request::get(format!("{url}/")).header("host", "hello.edge.localhost");
    for (name, value) in headers {
      request = request.header(*name, *value);
    }
    let request = request.body(Empty::new()).unwrap();
    let client = client.clone();
    async move {
      let started = std::time::Instant::now();
      let response = client.request(request).await.expect("answer");
      assert_eq!(response.status(), 200);
      response.into_body().collect().await.expect("body");
      started.elapsed()
    }
  };
  // Warm both paths (connections, the worker's isolate).
  for _ in 0..500 {
    once(a).await;
    once(b).await;
  }
  let (mut first, mut second) = (Vec::new(), Vec::new());
  for _ in 0..rounds {
    for _ in 0..requests / rounds {
      first.push(once(a).await);
    }
    for _ in 0..requests / rounds {
      second.push(once(b).await);
    }
  }
  (first, second)
}
