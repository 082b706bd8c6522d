//! Deploy propagation in a cluster: from a deploy accepted by the cluster (the bundle stored
//! and the worker's record set in NATS JetStream) to that version active on every node.
//!
//! A plain program (`harness = false`): it starts a real `nats-server` with JetStream (the
//! one `.ci/setup` installs, or `$NATS_SERVER`) and three `edge node` processes on loopback
//! (the release binary: build it first with `cargo build --release -p edge-node`), then
//! deploys a worker `DEPLOYS` times and times each until every node reports the version
//! active, and prints the percentiles.
//!
//! ```text
//! cargo build --release -p edge-node && cargo bench -p edge-benches --bench propagation
//! ```

use std::collections::BTreeMap;
use std::path::Path;
use std::path::PathBuf;
use std::process::Command;
use std::process::Stdio;
use std::time::Duration;
use std::time::Instant;

use edge_benches::edge_bin;
use edge_benches::Process;
use edge_node::state::cluster::Cluster;

const NODES: usize = 3;
const WARMUP: usize = 5;
const DEPLOYS: usize = 200;

fn nats_bin() -> PathBuf {
  if let Some(path) = std::env::var_os("NATS_SERVER") {
    return path.into();
  }
  Path::new(&std::env::var_os("HOME").unwrap_or_default()).join(".cache/edge-tools/nats/bin/nats-server")
}

fn free_port() -> u16 {
  std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port()
}

fn main() {
  if std::env::args().any(|a| a == "--list") {
    return;
  }
  let dir = tempfile::tempdir().expect("tempdir");
  let port = free_port();
  let nats = Process(
    Command::new(nats_bin())
      .args(["-js", "-a", "127.0.0.1", "-p", &port.to_string(), "-sd"])
      .arg(dir.path().join("nats"))
      .stdout(Stdio::null())
      .stderr(Stdio::null())
      .spawn()
      .expect("start nats-server (bash .ci/setup installs it)"),
  );
  let url = format!("nats://127.0.0.1:{port}");
  let runtime = tokio::runtime::Builder::new_multi_thread().enable_all().build().unwrap();
  runtime.block_on(async {
    let cluster = loop {
      match Cluster::connect(&url, "propagation bench").await {
        Ok(cluster) => break cluster,
        Err(_) => tokio::time::sleep(Duration::from_millis(50)).await,
      }
    };
    let nodes: Vec<Process> = (0..NODES)
      .map(|i| {
        Process(
          Command::new(edge_bin())
            .args(["node", "--cluster", &url, "--node-id", &format!("n{i}")])
            .arg("--data-dir")
            .arg(dir.path().join(format!("n{i}")))
            .args(["--admin-token", "propagation-bench-token", "--listen", "127.0.0.1:0"])
            .args(["--admin-listen", "127.0.0.1:0"])
            .env("EDGE_LOG", "warn")
            .stdout(Stdio::null())
            .spawn()
            .expect("start edge node"),
        )
      })
      .collect();
    while cluster.nodes().await.expect("nodes").len() < NODES {
      tokio::time::sleep(Duration::from_millis(50)).await;
    }

    let mut accepted = Vec::new();
    let mut propagated = Vec::new();
    for i in 0..WARMUP + DEPLOYS {
      let files = BTreeMap::from([
        ("edge.toml".to_owned(), b"name = \"propagation\"\n".to_vec()),
        (
          "worker.js".to_owned(),
          format!("export default {{ fetch: () => new Response('deploy {i}') }};").into_bytes(),
        ),
      ]);
      let started = Instant::now();
      let version = cluster.publish("propagation", &files).await.expect("publish");
      let publish = started.elapsed();
      let done = Instant::now();
      let status =
        cluster.wait("propagation", &version.to_string(), Duration::from_secs(30)).await.expect("wait");
      let elapsed = done.elapsed();
      assert!(status.converged, "deploy {i} did not reach every node: {status:?}");
      if i >= WARMUP {
        accepted.push(publish);
        propagated.push(elapsed);
      }
    }
    drop(nodes);
    println!(
      "deploy propagation, {NODES} nodes on loopback, {DEPLOYS} deploys ({} cores):",
      std::thread::available_parallelism().map_or(1, |n| n.get())
    );
    report("deploy accepted (bundle stored, record set)", &mut accepted);
    report("accepted -> active on every node", &mut propagated);
  });
  drop(nats);
}

fn report(what: &str, samples: &mut [Duration]) {
  samples.sort();
  let at = |q: f64| samples[((samples.len() as f64 * q).ceil() as usize).clamp(1, samples.len()) - 1];
  let ms = |d: Duration| d.as_secs_f64() * 1000.0;
  println!(
    "  {what:<45} p50 {:>7.2} ms  p90 {:>7.2} ms  p99 {:>7.2} ms  max {:>7.2} ms",
    ms(at(0.5)),
    ms(at(0.9)),
    ms(at(0.99)),
    ms(samples[samples.len() - 1])
  );
}
