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

use std::path::Path;
use std::time::Instant;

use edge_benches::report_latencies;
use edge_benches::start_edge;

use bytes::Bytes;
use http_body_util::BodyExt;
use http_body_util::Empty;

const REQUESTS: usize = 20_000;
const ROUNDS: usize = 20;

fn main() {
  if std::env::args().any(|a| a == "--list") {
    return;
  }
  let samples = Path::new(env!("CARGO_MANIFEST_DIR")).join("../sample-workers");
  let (_node, node_url) = start_edge(&[
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
    start_edge(&["router", "--config", config.to_str().unwrap(), "--listen", "127.0.0.1:0"]);

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
    let direct = report_latencies("direct to the node", &mut direct);
    let routed = report_latencies("through the router", &mut routed);
    println!(
      "  added by the router: p50 {:.1} µs, p99 {:.1} µs",
      (routed.0 - direct.0) * 1e6,
      (routed.1 - direct.1) * 1e6
    );
  });
}
