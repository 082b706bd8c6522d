//! Alerts for the operator: a worker's daily CPU budget nearly or fully used (`budget.rs`),
//! and a sudden spike of a worker's traffic. Each alert is a log event (target `edge::alert`),
//! a count in `edge_alerts_total{worker,kind}` and, when `[alerts] webhook` is set, a JSON
//! `POST` to it (three tries; a failure is logged, never blocks a request).
//!
//! Spike detection counts each worker's requests in windows of `spike_window_secs`; a window
//! whose count passes `spike_factor` times the mean of the [`BASELINE_WINDOWS`] before it
//! (and at least `spike_min_requests`) raises one alert, and the next only after a window
//! back under the threshold. A worker needs a full baseline first: nothing is raised in the
//! first [`BASELINE_WINDOWS`] windows after its first request on the node.

use std::collections::HashMap;
use std::collections::VecDeque;
use std::sync::Arc;
use std::sync::Mutex;
use std::time::Duration;
use std::time::Instant;

use bytes::Bytes;
use http_body_util::Full;
use hyper_util::client::legacy::Client;
use serde::Deserialize;
use serde_json::json;

use crate::observe::metrics::Metrics;

/// `[alerts]`: budget alerts (each worker's `[budget]`) and spike detection.
#[derive(Clone, Debug, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct AlertsConfig {
  /// An `http://` or `https://` URL that gets every alert as a JSON `POST`. Default: none.
  pub webhook: Option<String>,
  /// A worker whose requests in the current window exceed this many times its mean over the
  /// windows before raises a spike alert. 0 turns spike detection off. Default 10.
  pub spike_factor: f64,
  /// The window of spike detection, in seconds; the baseline is the six windows before.
  /// Default 10.
  pub spike_window_secs: u64,
  /// No spike is raised for fewer requests than this in a window. Default 100.
  pub spike_min_requests: u64,
}

impl Default for AlertsConfig {
  fn default() -> Self {
    AlertsConfig { webhook: None, spike_factor: 10.0, spike_window_secs: 10, spike_min_requests: 100 }
  }
}

/// Windows of spike detection that make a worker's baseline.
pub const BASELINE_WINDOWS: usize = 6;

type Https = hyper_rustls::HttpsConnector<hyper_util::client::legacy::connect::HttpConnector>;
/// An HTTP client for `http://` and `https://` URLs (webhooks, the OTLP collector).
pub type HttpsClient = Client<Https, Full<Bytes>>;

/// Where the node's alerts go.
pub struct Alerts {
  node: String,
  metrics: Arc<Metrics>,
  webhook: Option<(http::Uri, HttpsClient)>,
  spikes: Spikes,
}

impl Alerts {
  /// Alerts of node `node` under `config` (checked by `NodeConfig::validate`).
  pub fn new(node: &str, config: &AlertsConfig, metrics: Arc<Metrics>) -> Alerts {
    let webhook = config.webhook.as_ref().and_then(|url| Some((url.parse().ok()?, https_client())));
    Alerts { node: node.to_owned(), metrics, webhook, spikes: Spikes::new(config) }
  }

  /// Raises alert `kind` about `worker`: `details` go to the webhook beside the message.
  pub fn raise(&self, kind: &'static str, worker: &str, message: String, details: serde_json::Value) {
    tracing::warn!(target: "edge::alert", kind, worker, "{message}");
    self.metrics.alert(worker, kind);
    let Some((url, client)) = &self.webhook else { return };
    let mut body = json!({
      "kind": kind,
      "worker": worker,
      "node": self.node,
      "message": message,
      "time": chrono::Utc::now().to_rfc3339(),
    });
    if let (Some(body), serde_json::Value::Object(details)) = (body.as_object_mut(), details) {
      body.extend(details);
    }
    let body = Bytes::from(body.to_string());
    let (url, client) = (url.clone(), client.clone());
    tokio::spawn(async move {
      for attempt in 1..=3u32 {
        match post(&client, &url, body.clone()).await {
          Ok(()) => return,
          Err(e) if attempt == 3 => {
            tracing::warn!(target: "edge::alert", "webhook {url}: {e}; alert {kind} not delivered")
          }
          Err(_) => tokio::time::sleep(Duration::from_secs(u64::from(attempt))).await,
        }
      }
    });
  }

  /// Sets `edge_cpu_budget_used_ratio` of `worker`.
  pub fn budget_used(&self, worker: &str, ratio: f64) {
    self.metrics.budget_used(worker, ratio);
  }

  /// Counts a request of `worker` and raises a spike alert when its rate has jumped.
  pub fn request(&self, worker: &str) {
    if let Some(spike) = self.spikes.count(worker, Instant::now()) {
      let message = format!(
        "traffic spike on {worker}: {} requests in the last {} s, {:.1}× its mean of {:.1} over the {} windows before",
        spike.count,
        self.spikes.window.as_secs(),
        spike.count as f64 / spike.baseline.max(f64::MIN_POSITIVE),
        spike.baseline,
        BASELINE_WINDOWS
      );
      let details = json!({
        "requests": spike.count,
        "baseline": spike.baseline,
        "window_secs": self.spikes.window.as_secs(),
      });
      self.raise("spike", worker, message, details);
    }
  }
}

/// A client that checks servers against the Mozilla roots (webpki-roots).
pub fn https_client() -> HttpsClient {
  let roots = rustls::RootCertStore { roots: webpki_roots::TLS_SERVER_ROOTS.to_vec() };
  let tls = rustls::ClientConfig::builder().with_root_certificates(roots).with_no_client_auth();
  let connector =
    hyper_rustls::HttpsConnectorBuilder::new().with_tls_config(tls).https_or_http().enable_http1().build();
  Client::builder(hyper_util::rt::TokioExecutor::new()).build(connector)
}

async fn post(client: &HttpsClient, url: &http::Uri, body: Bytes) -> Result<(), String> {
  let request = http::Request::post(url.clone())
    .header(http::header::CONTENT_TYPE, "application/json")
    .header(http::header::USER_AGENT, edge_runtime::USER_AGENT)
    .body(Full::new(body))
    .map_err(|e| e.to_string())?;
  let response = tokio::time::timeout(Duration::from_secs(10), client.request(request))
    .await
    .map_err(|_| "no answer within 10 s".to_owned())?
    .map_err(|e| e.to_string())?;
  if response.status().is_success() {
    Ok(())
  } else {
    Err(format!("answered {}", response.status()))
  }
}

/// A spike found by [`Spikes::count`].
#[derive(Debug, PartialEq)]
struct Spike {
  count: u64,
  baseline: f64,
}

/// Each worker's recent request counts.
struct Spikes {
  factor: f64,
  min_requests: u64,
  window: Duration,
  workers: Mutex<HashMap<String, Track>>,
}

struct Track {
  window_start: Instant,
  count: u64,
  history: VecDeque<u64>,
  raised: bool,
}

impl Spikes {
  fn new(config: &AlertsConfig) -> Spikes {
    Spikes {
      factor: config.spike_factor,
      min_requests: config.spike_min_requests.max(1),
      window: Duration::from_secs(config.spike_window_secs.max(1)),
      workers: Mutex::default(),
    }
  }

  fn count(&self, worker: &str, now: Instant) -> Option<Spike> {
    if self.factor <= 0.0 {
      return None;
    }
    let mut workers = self.workers.lock().unwrap_or_else(|e| e.into_inner());
    if !workers.contains_key(worker) {
      let track = Track { window_start: now, count: 0, history: VecDeque::new(), raised: false };
      workers.insert(worker.to_owned(), track);
    }
    let track = workers.get_mut(worker)?;
    // Close the windows that ended, quiet ones included.
    while now.duration_since(track.window_start) >= self.window {
      let threshold = self.threshold(&track.history);
      if threshold.is_some_and(|t| track.count as f64 <= t) {
        track.raised = false;
      }
      track.history.push_back(track.count);
      if track.history.len() > BASELINE_WINDOWS {
        track.history.pop_front();
      }
      track.count = 0;
      track.window_start += self.window;
      if track.history.len() == BASELINE_WINDOWS && track.history.iter().all(|c| *c == 0) {
        // Long quiet: skip ahead rather than close each empty window.
        let behind = now.duration_since(track.window_start).as_secs() / self.window.as_secs();
        track.window_start += self.window * u32::try_from(behind).unwrap_or(u32::MAX);
      }
    }
    track.count += 1;
    let threshold = self.threshold(&track.history)?;
    if track.raised || (track.count as f64) <= threshold {
      return None;
    }
    track.raised = true;
    Some(Spike { count: track.count, baseline: mean(&track.history) })
  }

  /// The count above which a window is a spike, once the baseline is complete.
  fn threshold(&self, history: &VecDeque<u64>) -> Option<f64> {
    (history.len() == BASELINE_WINDOWS)
      .then(|| (self.factor * mean(history)).max(self.min_requests as f64 - 1.0))
  }
}

fn mean(history: &VecDeque<u64>) -> f64 {
  history.iter().sum::<u64>() as f64 / history.len().max(1) as f64
}

#[cfg(test)]
mod tests {
  use super::*;

  fn spikes() -> Spikes {
    Spikes::new(&AlertsConfig {
      webhook: None,
      spike_factor: 10.0,
      spike_window_secs: 1,
      spike_min_requests: 20,
    })
  }

  #[test]
  fn a_jump_over_a_full_baseline_is_raised_once() {
    let spikes = spikes();
    let start = Instant::now();
    // Three requests a window for the baseline: nothing is raised without a full one.
    for window in 0..BASELINE_WINDOWS as u64 {
      for _ in 0..3 {
        assert_eq!(spikes.count("w", start + Duration::from_secs(window)), None);
      }
    }
    let now = start + Duration::from_secs(BASELINE_WINDOWS as u64);
    let raised: Vec<Spike> = (0..100).filter_map(|_| spikes.count("w", now)).collect();
    // 10 × 3 = 30 requests pass, and the 31st is the spike; only once.
    assert_eq!(raised, vec![Spike { count: 31, baseline: 3.0 }]);
    assert_eq!(spikes.count("other", now), None, "workers are counted apart");
  }

  #[test]
  fn a_quiet_worker_needs_the_minimum_and_a_new_window_to_raise_again() {
    let spikes = spikes();
    let start = Instant::now();
    assert_eq!(spikes.count("w", start), None);
    let later = start + Duration::from_secs(BASELINE_WINDOWS as u64 + 30);
    let raised: Vec<Spike> = (0..25).filter_map(|_| spikes.count("w", later)).collect();
    assert_eq!(raised, vec![Spike { count: 20, baseline: 0.0 }]);
    let next = later + Duration::from_secs(1);
    assert_eq!((0..100).filter_map(|_| spikes.count("w", next)).count(), 0, "still in the same spike");
  }
}
