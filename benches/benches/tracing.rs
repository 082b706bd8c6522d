//! What exporting request spans costs: the same requests to two nodes serving `hello`, one
//! without an OTLP endpoint (trace context is still made and passed on), one exporting every
//! request's span to a collector this program runs (it answers every export `200`), one
//! request at a time on a kept-alive connection, alternating in rounds.
//!
//! ```text
//! cargo build --release -p edge-node && cargo bench -p edge-benches --bench tracing
//! ```

use std::path::Path;
use std::sync::atomic::AtomicU64;
use std::sync::atomic::Ordering;
use std::sync::Arc;

use bytes::Bytes;
use edge_benches::compare_sequential;
use edge_benches::report_latencies;
use edge_benches::start_edge;
use http_body_util::BodyExt;
use http_body_util::Full;

const REQUESTS: usize = 20_000;
const ROUNDS: usize = 20;

/// A collector that takes every export and counts the bytes.
async fn collector(received: Arc<AtomicU64>) -> String {
  let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
  let url = format!("http://{}", listener.local_addr().unwrap());
  tokio::spawn(async move {
    while let Ok((stream, _)) = listener.accept().await {
      let received = received.clone();
      tokio::spawn(async move {
        let service = hyper::service::service_fn(move |request: http::Request<hyper::body::Incoming>| {
          let received = received.clone();
          async move {
            let body = request.into_body().collect().await.map(|b| b.to_bytes()).unwrap_or_default();
            received.fetch_add(body.len() as u64, Ordering::Relaxed);
            Ok::<_, std::convert::Infallible>(http::Response::new(Full::new(Bytes::new())))
          }
        });
        let _ = hyper::server::conn::http1::Builder::new()
          .serve_connection(hyper_util::rt::TokioIo::new(stream), service)
          .await;
      });
    }
  });
  url
}

fn main() {
  if std::env::args().any(|a| a == "--list") {
    return;
  }
  let samples = Path::new(env!("CARGO_MANIFEST_DIR")).join("../sample-workers");
  let runtime = tokio::runtime::Builder::new_multi_thread().worker_threads(1).enable_all().build().unwrap();
  let received = Arc::new(AtomicU64::new(0));
  let collector = runtime.block_on(collector(received.clone()));
  let node = |extra: &[&str]| {
    let mut args = vec!["node", "--workers-dir", samples.to_str().unwrap()];
    args.extend(["--listen", "127.0.0.1:0", "--admin-listen", "127.0.0.1:0"]);
    args.extend(extra);
    start_edge(&args)
  };
  let (_plain, plain_url) = node(&[]);
  let (_exporting, exporting_url) = node(&["--otlp-endpoint", &collector]);

  runtime.block_on(async {
    let traceparent = [("traceparent", "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01")];
    let (mut plain, mut exporting) =
      compare_sequential(&plain_url, &exporting_url, &traceparent, REQUESTS, ROUNDS).await;
    // The batch processor sends every 5 s: wait for the last batch before counting.
    tokio::time::sleep(std::time::Duration::from_secs(6)).await;
    println!(
      "span export, `hello` on one node, {REQUESTS} sequential requests each way on loopback ({} cores):",
      std::thread::available_parallelism().map_or(1, |n| n.get())
    );
    let plain = report_latencies("trace context only", &mut plain);
    let exporting = report_latencies("exporting spans (OTLP)", &mut exporting);
    println!(
      "  added by exporting: p50 {:.1} µs, p99 {:.1} µs; the collector got {} KiB",
      (exporting.0 - plain.0) * 1e6,
      (exporting.1 - plain.1) * 1e6,
      received.load(Ordering::Relaxed) / 1024
    );
  });
}
