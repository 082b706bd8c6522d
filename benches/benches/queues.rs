//! Queues end to end: messages a second from producer to handler, and the latency from a
//! worker's `send` to the consumer's handler seeing the message, on one node (the embedded
//! store) and on three cluster nodes sharing a JetStream stream.
//!
//! A plain program (`harness = false`) running the release `edge` binary (build it first
//! with `cargo build --release -p edge-node`) and, for the cluster, a real `nats-server`. The
//! producer worker sends what it is posted; the consumer logs, per batch, how long each
//! message took from the moment the benchmark stamped it (`performance.timeOrigin +
//! performance.now()`, the same wall clock at sub-millisecond resolution) to its handler.
//!
//! ```text
//! cargo build --release -p edge-node && cargo bench -p edge-benches --bench queues
//! ```

use std::io::BufRead as _;
use std::io::BufReader;
use std::path::Path;
use std::process::Command;
use std::process::Stdio;
use std::sync::mpsc;
use std::time::Duration;
use std::time::Instant;

use edge_benches::edge_bin;
use edge_benches::Process;

const THROUGHPUT_MESSAGES: usize = 20_000;
const SEND_BATCH: usize = 100;
const LATENCY_MESSAGES: usize = 1_000;

const PRODUCER: &str = r#"export default {
  async fetch(request, env) {
    const bodies = await request.json();
    await env.Q.sendBatch(bodies.map((body) => ({ body })));
    return new Response("ok");
  },
};"#;

const CONSUMER: &str = r#"export default {
  async queue(batch) {
    const now = performance.timeOrigin + performance.now();
    console.log(`qlat ${batch.messages.map((m) => (now - m.body.t).toFixed(3)).join(",")}`);
  },
};"#;

fn write(root: &Path, name: &str, toml: &str, js: &str) {
  let dir = root.join(name);
  std::fs::create_dir_all(&dir).unwrap();
  std::fs::write(dir.join("edge.toml"), toml).unwrap();
  std::fs::write(dir.join("worker.js"), js).unwrap();
}

fn now_ms() -> f64 {
  std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap().as_secs_f64() * 1000.0
}

/// A node: its worker port and the latencies its consumer logs.
struct Node {
  _process: Process,
  port: u16,
}

fn start_node(args: &[&str], latencies: mpsc::Sender<Vec<f64>>) -> Node {
  let mut child = Command::new(edge_bin())
    .arg("node")
    .args(args)
    .args(["--listen", "127.0.0.1:0", "--admin-listen", "127.0.0.1:0"])
    .env("EDGE_LOG", "info")
    .stdout(Stdio::piped())
    .stderr(Stdio::piped())
    .spawn()
    .expect("start edge node");
  let stdout = BufReader::new(child.stdout.take().unwrap());
  let stderr = BufReader::new(child.stderr.take().unwrap());
  std::thread::spawn(move || {
    for line in stderr.lines().map_while(Result::ok) {
      if let Some(list) = line.split("qlat ").nth(1) {
        let values =
          list.split(|c: char| c == ',' || c.is_whitespace()).filter_map(|v| v.parse().ok()).collect();
        let _ = latencies.send(values);
      }
    }
  });
  let mut port = 0;
  for line in stdout.lines().map_while(Result::ok) {
    if let Some(address) = line.split("http://").nth(1).filter(|_| line.contains("serving")) {
      port = address.split([' ', '(']).next().unwrap().rsplit(':').next().unwrap().parse().unwrap();
    }
    if line.contains("admin") {
      break;
    }
  }
  assert_ne!(port, 0, "the node did not say where it listens");
  Node { _process: Process(child), port }
}

async fn post(
  client: &hyper_util::client::legacy::Client<
    hyper_util::client::legacy::connect::HttpConnector,
    http_body_util::Full<bytes::Bytes>,
  >,
  port: u16,
  body: String,
) {
  let request = http::Request::post(format!("http://127.0.0.1:{port}/"))
    .header("host", "producer.edge.localhost")
    .body(http_body_util::Full::new(bytes::Bytes::from(body)))
    .unwrap();
  let response = client.request(request).await.expect("send");
  assert_eq!(response.status(), 200, "the producer failed");
}

fn bodies(count: usize) -> String {
  let t = now_ms();
  let list: Vec<String> = (0..count).map(|i| format!("{{\"t\":{t:.3},\"i\":{i}}}")).collect();
  format!("[{}]", list.join(","))
}

/// Sends `THROUGHPUT_MESSAGES` in batches from four clients, then one message at a time;
/// prints both results.
async fn run(label: &str, ports: &[u16], latencies: &mpsc::Receiver<Vec<f64>>) {
  let client = hyper_util::client::legacy::Client::builder(hyper_util::rt::TokioExecutor::new()).build_http();
  // Warm-up: start every isolate.
  for _ in 0..20 {
    post(&client, ports[0], bodies(10)).await;
  }
  let mut seen = 0;
  while seen < 200 {
    seen += latencies.recv_timeout(Duration::from_secs(60)).expect("warm-up messages arrive").len();
  }
  while latencies.try_recv().is_ok() {}

  let started = Instant::now();
  let mut senders = Vec::new();
  for client_index in 0..4 {
    let client = client.clone();
    let port = ports[client_index % ports.len()];
    senders.push(tokio::spawn(async move {
      for _ in 0..THROUGHPUT_MESSAGES / SEND_BATCH / 4 {
        post(&client, port, bodies(SEND_BATCH)).await;
      }
    }));
  }
  for sender in senders {
    sender.await.unwrap();
  }
  let sent = started.elapsed();
  let mut received = 0;
  let mut loaded = Vec::new();
  while received < THROUGHPUT_MESSAGES {
    let batch = latencies.recv_timeout(Duration::from_secs(60)).expect("messages arrive");
    received += batch.len();
    loaded.extend(batch);
  }
  let elapsed = started.elapsed();

  let mut single = Vec::new();
  for _ in 0..LATENCY_MESSAGES {
    post(&client, ports[0], bodies(1)).await;
    single.extend(latencies.recv_timeout(Duration::from_secs(60)).expect("the message arrives"));
  }
  println!("{label}:");
  println!(
    "  throughput: {THROUGHPUT_MESSAGES} messages (sendBatch of {SEND_BATCH}, 4 clients) in {:.2} s: {:.0} messages/s handled (sends done in {:.2} s)",
    elapsed.as_secs_f64(),
    THROUGHPUT_MESSAGES as f64 / elapsed.as_secs_f64(),
    sent.as_secs_f64()
  );
  report("  send -> handler under that load", &mut loaded);
  report("  send -> handler, one message at a time", &mut single);
}

fn report(what: &str, samples: &mut [f64]) {
  samples.sort_by(f64::total_cmp);
  let at = |q: f64| samples[((samples.len() as f64 * q).ceil() as usize).clamp(1, samples.len()) - 1];
  println!(
    "{what:<45} p50 {:>8.2} ms  p90 {:>8.2} ms  p99 {:>8.2} ms  max {:>8.2} ms",
    at(0.5),
    at(0.9),
    at(0.99),
    samples[samples.len() - 1]
  );
}

fn main() {
  if std::env::args().any(|a| a == "--list") {
    return;
  }
  let dir = tempfile::tempdir().expect("tempdir");
  let workers = dir.path().join("workers");
  write(
    &workers,
    "producer",
    "name = \"producer\"\n[[queues.producers]]\nbinding = \"Q\"\nqueue = \"bench\"\n",
    PRODUCER,
  );
  let consumer_toml =
    "name = \"consumer\"\n[[queues.consumers]]\nqueue = \"bench\"\nmax_batch_size = 100\nmax_batch_timeout = 0\nmax_concurrency = 4\n";
  write(&workers, "consumer", consumer_toml, CONSUMER);
  let runtime = tokio::runtime::Builder::new_multi_thread().enable_all().build().unwrap();
  println!("({} cores)", std::thread::available_parallelism().map_or(1, |n| n.get()));

  // One node, the embedded store.
  {
    let (sender, latencies) = mpsc::channel();
    let data = dir.path().join("single");
    let node = start_node(
      &[
        "--workers-dir",
        workers.to_str().unwrap(),
        "--data-dir",
        data.to_str().unwrap(),
        "--admin-token",
        "queue-bench-token-0123",
      ],
      sender,
    );
    runtime.block_on(run("one node (redb in the data directory)", &[node.port], &latencies));
  }

  // Three nodes and NATS JetStream: the producer on the first, the consumer on all three.
  let nats_port = std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
  let nats_bin = std::env::var_os("NATS_SERVER").map(std::path::PathBuf::from).unwrap_or_else(|| {
    Path::new(&std::env::var_os("HOME").unwrap_or_default()).join(".cache/edge-tools/nats/bin/nats-server")
  });
  let _nats = Process(
    Command::new(nats_bin)
      .args(["-js", "-a", "127.0.0.1", "-p", &nats_port.to_string(), "-sd"])
      .arg(dir.path().join("nats"))
      .stdout(Stdio::null())
      .stderr(Stdio::null())
      .spawn()
      .expect("start nats-server (bash .ci/setup installs it)"),
  );
  let url = format!("nats://127.0.0.1:{nats_port}");
  while std::net::TcpStream::connect(("127.0.0.1", nats_port)).is_err() {
    std::thread::yield_now();
  }
  let (sender, latencies) = mpsc::channel();
  let nodes: Vec<Node> = (0..3)
    .map(|i| {
      let data = dir.path().join(format!("n{i}"));
      start_node(
        &[
          "--cluster",
          &url,
          "--node-id",
          &format!("n{i}"),
          "--data-dir",
          data.to_str().unwrap(),
          "--admin-token",
          "queue-bench-token-0123",
        ],
        sender.clone(),
      )
    })
    .collect();
  for name in ["producer", "consumer"] {
    let status = Command::new(edge_bin())
      .args(["deploy", workers.join(name).to_str().unwrap(), "--cluster", &url, "--wait"])
      .stdout(Stdio::null())
      .status()
      .unwrap();
    assert!(status.success(), "deploy {name}");
  }
  let ports: Vec<u16> = nodes.iter().map(|n| n.port).collect();
  runtime.block_on(run("three cluster nodes (NATS JetStream, file storage)", &ports, &latencies));
}
