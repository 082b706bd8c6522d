//! `edge bench <worker> --through-node`: cold starts as a client sees them. The worker is
//! copied `--workers` times under new names into a temporary workers folder, an `edge node`
//! process serves them on a loopback port, and once its pool of warm isolates is full each
//! copy is asked once (its first request: a cold start through the node's listener and
//! request path), back to back or `--spacing-ms` apart, then once more (warm). For each request: the time the client waited for the
//! response head (including loopback HTTP) and the node's own `Server-Timing: total`. The
//! growth of the node process's RSS over the copies made resident is what one more resident
//! worker costs a node.

use std::collections::BTreeMap;
use std::path::Path;
use std::process::Stdio;
use std::time::Duration;
use std::time::Instant;

use anyhow::Context as _;
use bytes::Bytes;
use http_body_util::BodyExt as _;
use http_body_util::Empty;
use serde::Serialize;
use tokio::io::AsyncBufReadExt as _;

use crate::cli::bench::summarize;
use crate::cli::bench::Summary;
use crate::manifest;

/// What `edge bench --through-node` runs.
#[derive(Clone, Debug)]
pub struct NodeBenchOptions {
  /// New workers, each asked once cold and once warm.
  pub workers: usize,
  /// The pause between two first requests (zero: back to back).
  pub spacing: Duration,
  /// The request path.
  pub path: String,
  pub json: bool,
}

/// The report (what `--json` prints).
#[derive(Clone, Debug, Serialize)]
pub struct NodeReport {
  pub worker: String,
  /// What was measured: always through a node's listener here.
  pub measured: &'static str,
  pub workers: usize,
  pub spacing_ms: u64,
  /// First requests: client time to the head, and the node's `Server-Timing: total`.
  pub cold: Vec<Summary>,
  /// Second requests, the same.
  pub warm: Vec<Summary>,
  /// First requests the node did not report as cold (a worker already resident).
  pub not_cold: usize,
  /// Growth of the node process's RSS per resident worker, in bytes.
  pub node_rss_per_worker_bytes: u64,
}

/// Runs the benchmark against a node of this binary and prints the report.
pub async fn run(dir: &Path, options: &NodeBenchOptions) -> anyhow::Result<()> {
  if options.workers == 0 {
    anyhow::bail!("--workers must be at least 1");
  }
  if !dir.is_dir() {
    anyhow::bail!("--through-node copies a worker folder; {} is not one", dir.display());
  }
  let (name, files) = worker_files(dir)?;
  let workers_dir = tempfile::Builder::new().prefix("edge-bench-").tempdir().context("a temporary folder")?;
  let names: Vec<String> = (0..options.workers).map(|i| format!("bench-{i:04}")).collect();
  for copy in &names {
    write_copy(&workers_dir.path().join(copy), copy, &files)?;
  }
  let node = Node::start(workers_dir.path()).await?;
  let client = hyper_util::client::legacy::Client::builder(hyper_util::rt::TokioExecutor::new())
    .build_http::<Empty<Bytes>>();
  node.pool_filled(&client).await?;
  let before = node.rss_bytes();
  let (mut cold_client, mut cold_node, mut warm_client, mut warm_node) = (vec![], vec![], vec![], vec![]);
  let (mut cold_isolate, mut cold_module) = (vec![], vec![]);
  let mut not_cold = 0;
  for (i, copy) in names.iter().enumerate() {
    if i > 0 && !options.spacing.is_zero() {
      tokio::time::sleep(options.spacing).await;
    }
    let timed = timed_get(&client, &node, copy, &options.path).await?;
    cold_client.push(timed.head);
    cold_node.push(timed.total);
    match timed.boot {
      Some((isolate, module)) => {
        cold_isolate.push(isolate);
        cold_module.push(module);
      }
      None => not_cold += 1,
    }
  }
  let after = node.rss_bytes();
  for copy in &names {
    let timed = timed_get(&client, &node, copy, &options.path).await?;
    warm_client.push(timed.head);
    warm_node.push(timed.total);
  }
  drop(node);
  let report = NodeReport {
    worker: name,
    measured: "through a node's listener (a separate edge node process, loopback HTTP/1.1)",
    workers: options.workers,
    spacing_ms: options.spacing.as_millis() as u64,
    cold: cold_rows(&cold_client, &cold_node, &cold_isolate, &cold_module),
    warm: vec![summarize("client, to the head", &warm_client), summarize("node, Server-Timing", &warm_node)],
    not_cold,
    node_rss_per_worker_bytes: after.saturating_sub(before) / options.workers as u64,
  };
  if options.json {
    println!("{}", serde_json::to_string_pretty(&report)?);
  } else {
    print!("{}", table(&report));
  }
  Ok(())
}

/// The worker's files as a node would load them (bundled, its wrangler configuration as an
/// `edge.toml`), and its name.
fn worker_files(dir: &Path) -> anyhow::Result<(String, BTreeMap<String, Vec<u8>>)> {
  let has_config = dir.join(manifest::MANIFEST_FILE).is_file()
    || manifest::wrangler::find(|file| dir.join(file).is_file()).is_some();
  if has_config {
    return crate::cli::client::read_bundle(dir, None);
  }
  let files = manifest::read_files(dir).map_err(|e| anyhow::anyhow!("{e}"))?;
  Ok((manifest::folder_name(dir), files))
}

/// The worker's files under `folder`, its manifest naming it `name`.
fn write_copy(folder: &Path, name: &str, files: &BTreeMap<String, Vec<u8>>) -> anyhow::Result<()> {
  let mut config: toml::Table = match files.get(manifest::MANIFEST_FILE) {
    Some(text) => toml::from_str(std::str::from_utf8(text)?).context("the worker's edge.toml")?,
    None => toml::Table::new(),
  };
  config.insert("name".into(), toml::Value::String(name.to_owned()));
  // Every copy is its own worker: none answers another's routes.
  config.remove("routes");
  for (path, bytes) in files.iter().filter(|(path, _)| path.as_str() != manifest::MANIFEST_FILE) {
    let file = folder.join(path);
    std::fs::create_dir_all(file.parent().unwrap_or(folder))?;
    std::fs::write(&file, bytes).with_context(|| format!("{}", file.display()))?;
  }
  std::fs::create_dir_all(folder)?;
  std::fs::write(folder.join(manifest::MANIFEST_FILE), toml::to_string(&config)?)?;
  Ok(())
}

/// The rows of first requests: the client's and the node's times, and of the node's, what
/// starting the isolate took.
fn cold_rows(
  client: &[Duration],
  node: &[Duration],
  isolate: &[Duration],
  module: &[Duration],
) -> Vec<Summary> {
  let mut rows = vec![summarize("client, to the head", client), summarize("node, Server-Timing", node)];
  if !isolate.is_empty() {
    rows.push(summarize("  isolate ready", isolate));
    rows.push(summarize("  module evaluated", module));
  }
  rows
}

/// What one GET measured.
struct Timed {
  /// The client's time to the response head.
  head: Duration,
  /// The node's `Server-Timing: total`.
  total: Duration,
  /// When the node started an isolate for it: getting the isolate ready, and evaluating the
  /// worker's module (`Server-Timing: isolate`, `module`).
  boot: Option<(Duration, Duration)>,
}

/// One GET to worker `name`, timed.
async fn timed_get(client: &Client, node: &Node, name: &str, path: &str) -> anyhow::Result<Timed> {
  let request = http::Request::get(format!("http://{}{path}", node.address))
    .header(http::header::HOST, format!("{name}.{}", node.domain))
    .body(Empty::new())?;
  let sent = Instant::now();
  let response = client.request(request).await.context("the node did not answer")?;
  let head = sent.elapsed();
  let status = response.status();
  let timing =
    response.headers().get("server-timing").and_then(|v| v.to_str().ok()).unwrap_or_default().to_owned();
  response.into_body().collect().await.context("the response body failed")?;
  if !status.is_success() {
    anyhow::bail!("{name} answered {status}; benchmark a path that succeeds (--request-path)");
  }
  let metric = |name: &str| {
    let prefix = format!("{name};dur=");
    timing
      .split(',')
      .find_map(|part| part.trim().strip_prefix(prefix.as_str())?.parse::<f64>().ok())
      .map(|ms| Duration::from_secs_f64(ms / 1000.0))
  };
  let total = metric("total").with_context(|| format!("no Server-Timing total in {timing:?}"))?;
  let boot = match timing.contains("desc=\"cold\"") {
    true => metric("isolate").zip(metric("module")),
    false => None,
  };
  Ok(Timed { head, total, boot })
}

/// An `edge node` child process serving a workers folder on a loopback port.
struct Node {
  child: tokio::process::Child,
  address: String,
  domain: String,
  /// The admin listener's `host:port`.
  admin: String,
}

type Client =
  hyper_util::client::legacy::Client<hyper_util::client::legacy::connect::HttpConnector, Empty<Bytes>>;

impl Node {
  async fn start(workers_dir: &Path) -> anyhow::Result<Node> {
    let exe = std::env::current_exe().context("this program's path")?;
    let mut child = tokio::process::Command::new(exe)
      .args(["node", "--listen", "127.0.0.1:0", "--admin-listen", "127.0.0.1:0", "--workers-dir"])
      .arg(workers_dir)
      .env("EDGE_LOG", "warn")
      .stdin(Stdio::null())
      .stdout(Stdio::piped())
      .kill_on_drop(true)
      .spawn()
      .context("cannot start edge node")?;
    let stdout = child.stdout.take().context("the node's output")?;
    let mut lines = tokio::io::BufReader::new(stdout).lines();
    // "edge node: serving 100 workers on http://127.0.0.1:PORT (hosts: <worker>.edge.localhost)",
    // then "edge node: admin (...) on http://127.0.0.1:PORT".
    let (line, admin) = tokio::time::timeout(Duration::from_secs(120), async {
      let mut serving = None;
      while let Some(line) = lines.next_line().await? {
        if line.contains("workers on http://") {
          serving = Some(line);
        } else if line.contains("admin") && line.contains("http://") {
          let admin = line.rsplit("http://").next().unwrap_or("").trim().to_owned();
          return serving.map(|serving| (serving, admin)).context("edge node named its admin listener first");
        }
      }
      anyhow::bail!("edge node ended before it listened")
    })
    .await
    .context("edge node did not listen within 120 s")??;
    let address = line.split("http://").nth(1).and_then(|rest| rest.split_whitespace().next()).unwrap_or("");
    let domain = line.split("<worker>.").nth(1).map(|rest| rest.trim_end_matches(')')).unwrap_or("");
    let node = Node { child, address: address.to_owned(), domain: domain.to_owned(), admin };
    // Keep reading its output so that it never blocks on a full pipe.
    tokio::spawn(async move { while let Ok(Some(_)) = lines.next_line().await {} });
    Ok(node)
  }

  /// Waits until the node's pool holds its target of warm isolates, none being prepared: the
  /// first requests are to a node that is up, not one still filling its pool.
  async fn pool_filled(&self, client: &Client) -> anyhow::Result<()> {
    let deadline = Instant::now() + Duration::from_secs(60);
    loop {
      let request = http::Request::get(format!("http://{}/metrics", self.admin)).body(Empty::new())?;
      let response = client.request(request).await.context("the node's admin listener did not answer")?;
      let text = response.into_body().collect().await.context("the metrics")?.to_bytes();
      let text = String::from_utf8_lossy(&text);
      let metric = |name: &str| {
        text.lines().find_map(|line| line.strip_prefix(name)?.trim().parse::<f64>().ok()).unwrap_or(-1.0)
      };
      let (ready, target) = (metric("edge_pool_ready_isolates "), metric("edge_pool_target_isolates "));
      if ready >= target && target >= 0.0 && metric("edge_pool_warming_isolates ") == 0.0 {
        return Ok(());
      }
      if Instant::now() > deadline {
        anyhow::bail!("the node's pool did not fill within 60 s ({ready} of {target} ready)");
      }
      // Polling a process we do not control; the pace does not enter any figure.
      tokio::time::sleep(Duration::from_millis(5)).await;
    }
  }

  fn rss_bytes(&self) -> u64 {
    self.child.id().map_or(0, |pid| crate::cli::bench::process_rss_bytes(&pid.to_string()))
  }
}

/// The report as a table.
pub fn table(report: &NodeReport) -> String {
  let spacing = match report.spacing_ms {
    0 => "back to back".to_owned(),
    ms => format!("{ms} ms apart"),
  };
  let mut out = format!(
    "edge bench: {} measured {}: {} new workers, first requests {spacing}\n\n",
    report.worker, report.measured, report.workers
  );
  out.push_str(&format!("{:<26}{:>10}{:>10}{:>10}{:>10}\n", "", "p50 ms", "p90 ms", "p99 ms", "max ms"));
  for (title, rows) in [("first request (cold)", &report.cold), ("second request (warm)", &report.warm)] {
    out.push_str(&format!("{title}\n"));
    for row in rows {
      out.push_str(&format!(
        "  {:<24}{:>10.3}{:>10.3}{:>10.3}{:>10.3}\n",
        row.phase, row.p50, row.p90, row.p99, row.max
      ));
    }
  }
  if report.not_cold > 0 {
    out.push_str(&format!("\n{} first requests were not cold starts\n", report.not_cold));
  }
  out.push_str(&format!(
    "\nnode memory per resident worker: {:.2} MiB RSS (the node process's growth)\n",
    report.node_rss_per_worker_bytes as f64 / 1048576.0
  ));
  out
}
