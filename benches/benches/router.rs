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

use edge_benches::compare_sequential;
use edge_benches::report_latencies;
use edge_benches::start_edge;

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
    let (mut direct, mut routed) = compare_sequential(&node_url, &router_url, &[], REQUESTS, ROUNDS).await;
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
