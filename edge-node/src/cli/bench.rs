//! `edge bench <worker>`: cold and warm starts of one worker, measured in this process (a
//! component's figure, without HTTP; `--through-node`, in `bench_node.rs`, measures what a
//! client of a node sees).
//!
//! A cold start takes a pre-warmed isolate from a pool, evaluates the worker's module and
//! answers one request: its phases are *isolate acquired* (until a prepared isolate is at
//! hand), *module evaluated* (the worker's module and its handler), *handler ran* (request
//! sent until the response head) and *response complete* (the head until the last byte of the
//! body). Warm requests go to one resident isolate. Every isolate started for a cold start
//! stays resident until the end, so the growth of the process's RSS divided by their number is
//! what keeping one more worker resident costs.

use std::path::Path;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;
use std::time::Instant;

use anyhow::Context as _;
use edge_runtime::IsolatePool;
use edge_runtime::WorkerHandle;
use edge_runtime::WorkerRequest;
use serde::Serialize;

use crate::manifest;

/// What `edge bench` runs.
#[derive(Clone, Debug)]
pub struct BenchOptions {
  /// Cold starts to make.
  pub cold: usize,
  /// Warm requests to make.
  pub warm: usize,
  /// The request path.
  pub path: String,
  /// Print JSON instead of a table.
  pub json: bool,
  /// Draw the latency distributions into this SVG file.
  pub chart: Option<PathBuf>,
}

/// Percentiles of one measured phase, in milliseconds.
#[derive(Clone, Debug, Serialize)]
pub struct Summary {
  pub phase: &'static str,
  pub p50: f64,
  pub p90: f64,
  pub p99: f64,
  pub max: f64,
}

/// The whole report (what `--json` prints).
#[derive(Clone, Debug, Serialize)]
pub struct Report {
  pub worker: String,
  /// What was measured: in this process, here.
  pub measured: &'static str,
  pub engine: &'static str,
  pub cold_starts: usize,
  pub warm_requests: usize,
  pub cold: Vec<Summary>,
  pub warm: Vec<Summary>,
  /// Growth of this process's resident memory per resident isolate, in bytes.
  pub rss_per_isolate_bytes: u64,
  /// The engine's heap of one isolate after its module was evaluated, in bytes (median).
  pub heap_per_isolate_bytes: u64,
  /// Every cold start's total and every warm request's total, in milliseconds (for charts).
  pub cold_totals_ms: Vec<f64>,
  pub warm_totals_ms: Vec<f64>,
}

/// Runs the benchmark and prints the report.
pub async fn run(path: &Path, options: &BenchOptions) -> anyhow::Result<()> {
  if options.cold == 0 || options.warm == 0 {
    anyhow::bail!("--cold and --warm must be at least 1");
  }
  let worker = manifest::load_worker(path, &edge_runtime::Limits::default())
    .map_err(|e| anyhow::anyhow!("cannot read the worker: {e}"))?;
  let report = measure(&worker, options).await?;
  if options.json {
    println!("{}", serde_json::to_string_pretty(&report)?);
  } else {
    print!("{}", table(&report));
  }
  if let Some(chart) = &options.chart {
    draw(&report, chart).with_context(|| format!("cannot write the chart {}", chart.display()))?;
    if !options.json {
      println!("chart: {}", chart.display());
    }
  }
  Ok(())
}

fn progress(len: usize, what: &str, hidden: bool) -> indicatif::ProgressBar {
  let bar = if hidden { indicatif::ProgressBar::hidden() } else { indicatif::ProgressBar::new(len as u64) };
  bar.set_style(
    indicatif::ProgressStyle::with_template("{msg:>12} [{bar:40}] {pos}/{len} ({eta})")
      .expect("a valid template")
      .progress_chars("=> "),
  );
  bar.set_message(what.to_owned());
  bar
}

async fn measure(worker: &manifest::LoadedWorker, options: &BenchOptions) -> anyhow::Result<Report> {
  let quiet: edge_runtime::ConsoleFn = Arc::new(|_: &edge_runtime::ConsoleLine| {});
  let limits = &worker.options.limits;
  let pool = IsolatePool::new(2, limits.memory_mb);
  pool.wait_full().await;
  let url = format!("http://{}.localhost{}", worker.bundle.name, options.path);
  let request = || WorkerRequest {
    method: http::Method::GET,
    url: url.clone(),
    headers: http::HeaderMap::new(),
    body: None,
    request_id: None,
  };

  // Cold starts: each on a fresh pre-warmed isolate, kept resident until the end.
  let (mut acquired, mut evaluated, mut ran, mut completed, mut cold_total) =
    (Vec::new(), Vec::new(), Vec::new(), Vec::new(), Vec::new());
  let mut resident: Vec<WorkerHandle> = Vec::with_capacity(options.cold);
  let rss_before = rss_bytes();
  let bar = progress(options.cold, "cold starts", options.json);
  for _ in 0..options.cold {
    // The pool refills in the background; wait outside the timing, as a node between starts.
    pool.wait_full().await;
    let started = Instant::now();
    let handle = pool
      .start(worker.bundle.clone(), worker.options.clone(), quiet.clone())
      .await
      .context("the worker did not start")?;
    let loaded = started.elapsed();
    let (head, body) = timed_fetch(&handle, request()).await?;
    let report = handle.start_report();
    acquired.push(report.acquired);
    evaluated.push(report.evaluated);
    ran.push(head);
    completed.push(body);
    cold_total.push(loaded + head + body);
    resident.push(handle);
    bar.inc(1);
  }
  bar.finish_and_clear();
  let rss_after = rss_bytes();
  let rss_per_isolate = rss_after.saturating_sub(rss_before) / options.cold as u64;

  // Warm requests to one resident isolate, after a few to warm it up.
  let handle = resident.first().expect("at least one cold start").clone();
  for _ in 0..10 {
    timed_fetch(&handle, request()).await?;
  }
  let (mut warm_ran, mut warm_completed, mut warm_total) = (Vec::new(), Vec::new(), Vec::new());
  let bar = progress(options.warm, "warm", options.json);
  for _ in 0..options.warm {
    let (head, body) = timed_fetch(&handle, request()).await?;
    warm_ran.push(head);
    warm_completed.push(body);
    warm_total.push(head + body);
    bar.inc(1);
  }
  bar.finish_and_clear();
  // Each isolate measured its heap once idle after its request.
  let mut heaps: Vec<u64> = resident.iter().map(|h| h.memory_bytes() as u64).collect();
  heaps.sort_unstable();
  for handle in resident {
    handle.shutdown(Duration::from_secs(10)).await;
  }

  Ok(Report {
    worker: worker.bundle.name.clone(),
    measured:
      "in this process, without HTTP (a component's figure; --through-node measures what a client sees)",
    engine: edge_runtime::engine::NAME,
    cold_starts: options.cold,
    warm_requests: options.warm,
    cold: vec![
      summarize("isolate acquired", &acquired),
      summarize("module evaluated", &evaluated),
      summarize("handler ran", &ran),
      summarize("response complete", &completed),
      summarize("total", &cold_total),
    ],
    warm: vec![
      summarize("handler ran", &warm_ran),
      summarize("response complete", &warm_completed),
      summarize("total", &warm_total),
    ],
    rss_per_isolate_bytes: rss_per_isolate,
    heap_per_isolate_bytes: heaps[heaps.len() / 2],
    cold_totals_ms: cold_total.iter().map(|d| ms(*d)).collect(),
    warm_totals_ms: warm_total.iter().map(|d| ms(*d)).collect(),
  })
}

/// Sends a request; returns the time to the response head and from there to the body's end.
async fn timed_fetch(handle: &WorkerHandle, request: WorkerRequest) -> anyhow::Result<(Duration, Duration)> {
  let sent = Instant::now();
  let response = handle.fetch(request).await.context("the worker failed the request")?;
  let head = sent.elapsed();
  let status = response.status();
  response.into_body().collect().await.context("the response body failed")?;
  let total = sent.elapsed();
  if !status.is_success() {
    anyhow::bail!("the worker answered {status}; benchmark a path that succeeds (--path)");
  }
  Ok((head, total - head))
}

fn ms(duration: Duration) -> f64 {
  duration.as_secs_f64() * 1000.0
}

/// Nearest-rank percentiles.
pub(crate) fn summarize(phase: &'static str, samples: &[Duration]) -> Summary {
  let mut sorted: Vec<f64> = samples.iter().map(|d| ms(*d)).collect();
  sorted.sort_by(f64::total_cmp);
  let at = |p: f64| {
    let rank = ((p / 100.0) * sorted.len() as f64).ceil() as usize;
    sorted[rank.clamp(1, sorted.len()) - 1]
  };
  Summary { phase, p50: at(50.0), p90: at(90.0), p99: at(99.0), max: *sorted.last().unwrap_or(&0.0) }
}

/// The process's resident set, in bytes.
fn rss_bytes() -> u64 {
  process_rss_bytes("self")
}

/// The resident set of process `pid` (or `self`), in bytes; 0 when it cannot be read.
pub(crate) fn process_rss_bytes(pid: &str) -> u64 {
  let status = std::fs::read_to_string(format!("/proc/{pid}/status")).unwrap_or_default();
  let kib = status.lines().find(|l| l.starts_with("VmRSS:")).and_then(|l| l.split_whitespace().nth(1));
  kib.and_then(|k| k.parse::<u64>().ok()).unwrap_or(0) * 1024
}

/// The report as a table.
pub fn table(report: &Report) -> String {
  let mut out = format!(
    "edge bench: {} on {}, {} cold starts (pre-warmed pool), {} warm requests\nmeasured {}\n\n",
    report.worker, report.engine, report.cold_starts, report.warm_requests, report.measured
  );
  let header = format!("{:<22}{:>10}{:>10}{:>10}{:>10}\n", "", "p50 ms", "p90 ms", "p99 ms", "max ms");
  let rows = |title: &str, rows: &[Summary]| {
    let mut text = format!("{title}\n");
    for row in rows {
      text.push_str(&format!(
        "  {:<20}{:>10.3}{:>10.3}{:>10.3}{:>10.3}\n",
        row.phase, row.p50, row.p90, row.p99, row.max
      ));
    }
    text
  };
  out.push_str(&header);
  out.push_str(&rows("cold start", &report.cold));
  out.push_str(&rows("warm request", &report.warm));
  out.push_str(&format!(
    "\nmemory per resident isolate: {:.1} MiB RSS, {:.1} MiB engine heap\n",
    report.rss_per_isolate_bytes as f64 / 1048576.0,
    report.heap_per_isolate_bytes as f64 / 1048576.0
  ));
  out
}

/// Cold and warm latency distributions (percentile against milliseconds, log scale) as SVG.
fn draw(report: &Report, path: &Path) -> anyhow::Result<()> {
  use plotters::prelude::*;
  let curve = |samples: &[f64]| -> Vec<(f64, f64)> {
    let mut sorted = samples.to_vec();
    sorted.sort_by(f64::total_cmp);
    let n = sorted.len() as f64;
    sorted.iter().enumerate().map(|(i, v)| ((i as f64 + 1.0) / n * 100.0, v.max(0.001))).collect()
  };
  let cold = curve(&report.cold_totals_ms);
  let warm = curve(&report.warm_totals_ms);
  let low = warm.iter().chain(&cold).map(|p| p.1).fold(f64::MAX, f64::min) * 0.8;
  let high = warm.iter().chain(&cold).map(|p| p.1).fold(0.0, f64::max) * 1.25;
  let root = SVGBackend::new(path, (900, 540)).into_drawing_area();
  root.fill(&WHITE)?;
  let mut chart = ChartBuilder::on(&root)
    .caption(format!("edge bench: {} ({})", report.worker, report.engine), ("sans-serif", 22))
    .margin(16)
    .x_label_area_size(44)
    .y_label_area_size(64)
    .build_cartesian_2d(0f64..100f64, (low..high).log_scale())?;
  chart
    .configure_mesh()
    .x_desc("percentile")
    .y_desc("latency (ms, log scale)")
    .y_label_formatter(&|v| format!("{v:.3}"))
    .draw()?;
  let cold_color = RGBColor(200, 60, 40);
  let warm_color = RGBColor(40, 100, 200);
  chart
    .draw_series(LineSeries::new(cold, cold_color.stroke_width(2)))?
    .label(format!("cold start ({} samples)", report.cold_starts))
    .legend(move |(x, y)| PathElement::new(vec![(x, y), (x + 20, y)], cold_color.stroke_width(2)));
  chart
    .draw_series(LineSeries::new(warm, warm_color.stroke_width(2)))?
    .label(format!("warm request ({} samples)", report.warm_requests))
    .legend(move |(x, y)| PathElement::new(vec![(x, y), (x + 20, y)], warm_color.stroke_width(2)));
  chart.configure_series_labels().background_style(WHITE.mix(0.9)).border_style(BLACK).draw()?;
  root.present()?;
  Ok(())
}
