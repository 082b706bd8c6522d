//! The latency `edge router` adds: the same requests to a node directly and through the
//! router, one at a time on a kept-alive connection, on loopback.
//!
//! A plain program (`harness = false`): it starts one `edge node` (the `hello` sample worker)
//! and one `edge router` in front of it (the release binary: build it first with
//! `cargo build --release -p edge-node`), sends `REQUESTS` requests each way, alternating
//! in rounds so that both see the same machine, and prints the percentiles of both and of
//! their difference.
//!
//! ```text
//! cargo build --release -p edge-node && cargo bench -p edge-benches --bench router
//! ```

use std::io::BufRead;
use std::io::BufReader;
use std::path::Path;
use std::process::Command;
use std::process::Stdio;
use std::time::Duration;
use std::time::Instant;

use edge_benches::edge_bin;
use edge_benches::Process;

use bytes::Bytes;
use http_body_util::BodyExt;
use http_body_util::Empty;

const REQUESTS: usize = 20_000;
const ROUNDS: usize = 20;

/// Starts `edge <args>` and returns it with the first `http://` address it prints.
fn start(args: &[&str]) -> (Process, String) {
  let mut child = Command::new(edge_bin())
    .args(args)
    .env("EDGE_LOG", "warn")
    .stdout(Stdio::piped())
    .stderr(Stdio::null())
    .spawn()
    .expect("start edge");
  let stdout = child.stdout.take().unwrap();
  let mut lines = BufReader::new(stdout).lines();
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

fn main() {
  if std::env::args().any(|a| a == "--list") {
    return;
  }
  let samples = Path::new(env!("CARGO_MANIFEST_DIR")).join("../sample-workers");
  let (_node, node_url) = start(&[
    "node",
    "--workers-dir",
    samples.to_str().unwrap(),
    "--listen",
    "127.0.0.1:0",
    "--admin-listen",
    "127.0.0.1:0",
  ]);
  let dir = tempfile::tempdir().unwrap();
  let config = dir.path().join("router.toml");
  std::fs::write(
    &config,
    format!(
      "[[nodes]]\nid = \"n1\"\nurl = \"{node_url}\"\nlatitude = 50.11\nlongitude = 8.68\nregion = \"fra\"\n"
    ),
  )
  .unwrap();
  let (_router, router_url) =
    start(&["router", "--config", config.to_str().unwrap(), "--listen", "127.0.0.1:0"]);

  let runtime = tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap();
  runtime.block_on(async {
    let client = hyper_util::client::legacy::Client::builder(hyper_util::rt::TokioExecutor::new())
      .build_http::<Empty<Bytes>>();
    let once = |url: String| {
      let client = client.clone();
      async move {
        let request =
          http::Request::get(url).header("host", "hello.edge.localhost").body(Empty::new()).unwrap();
        let started = Instant::now();
        let response = client.request(request).await.expect("answer");
        assert_eq!(response.status(), 200);
        response.into_body().collect().await.expect("body");
        started.elapsed()
      }
    };
    // Warm both paths (connections, the worker's isolate).
    for _ in 0..500 {
      once(format!("{node_url}/")).await;
      once(format!("{router_url}/")).await;
    }
    let (mut direct, mut routed) = (Vec::new(), Vec::new());
    for _ in 0..ROUNDS {
      for _ in 0..REQUESTS / ROUNDS {
        direct.push(once(format!("{node_url}/")).await);
      }
      for _ in 0..REQUESTS / ROUNDS {
        routed.push(once(format!("{router_url}/")).await);
      }
    }
    println!(
      "router overhead, `hello` on one node, {REQUESTS} sequential requests each way on loopback ({} cores):",
      std::thread::available_parallelism().map_or(1, |n| n.get())
    );
    let direct = report("direct to the node", &mut direct);
    let routed = report("through the router", &mut routed);
    println!(
      "  added by the router: p50 {:.1} µs, p99 {:.1} µs",
      (routed.0 - direct.0) * 1e6,
      (routed.1 - direct.1) * 1e6
    );
  });
}

/// Prints the percentiles; returns (p50, p99) in seconds.
fn report(what: &str, samples: &mut [Duration]) -> (f64, f64) {
  samples.sort();
  let at = |q: f64| samples[((samples.len() as f64 * q).ceil() as usize).clamp(1, samples.len()) - 1];
  let us = |d: Duration| d.as_secs_f64() * 1e6;
  println!(
    "  {what:<22} p50 {:>7.1} µs  p90 {:>7.1} µs  p99 {:>7.1} µs",
    us(at(0.5)),
    us(at(0.9)),
    us(at(0.99))
  );
  (at(0.5).as_secs_f64(), at(0.99).as_secs_f64())
}
