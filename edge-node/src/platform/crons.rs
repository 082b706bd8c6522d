//! Scheduled handlers: `crons = ["*/5 * * * *"]` in a worker's `edge.toml` runs its
//! `scheduled(controller, env, ctx)` on that schedule (five fields, or six with seconds first),
//! in UTC. Every second the scheduler looks for ticks that came due since its last look; in a
//! cluster, a node runs a tick only after claiming it in the JetStream key-value bucket
//! `edge-cron-ticks` (a create that only one node can win), so each tick runs on exactly one
//! node. A run goes through the worker's isolate like a request, under its limits: the node
//! sends it with the internal header [`SCHEDULED_HEADER`] (dropped from every request from the
//! network), and the runtime's bootstrap calls `scheduled` instead of `fetch`. A failed run
//! is logged with its reason.

use std::collections::HashMap;
use std::sync::Arc;
use std::time::Duration;

use async_nats::jetstream::kv;
use chrono::DateTime;
use chrono::Utc;
use edge_runtime::WorkerError;
use edge_runtime::WorkerRequest;

use crate::catalog::Deployment;
use crate::isolates::slot::Instance;
use crate::isolates::workers::Workers;
use crate::state::cluster::Cluster;

pub use crate::manifest::names::parse_cron as parse;

/// Marks a request as a scheduled event: `{"cron": "...", "scheduledTime": <ms>}`.
pub const SCHEDULED_HEADER: &str = "x-edge-scheduled";
/// The bucket where cluster nodes claim ticks.
pub const TICKS: &str = "edge-cron-ticks";

/// Runs `deployment`'s `scheduled` handler once, now, for `cron` at `scheduled_ms`.
pub async fn run(
  node: &Workers,
  deployment: &Arc<Deployment>,
  cron: &str,
  scheduled_ms: i64,
) -> Result<(), String> {
  let picked = node.cache().pick(deployment).await.map_err(|e| format!("the worker does not start: {e}"))?;
  let Instance::Local(worker) = &picked.instance else {
    return Err("scheduled handlers do not run in isolate host processes yet".into());
  };
  let event = serde_json::json!({ "cron": cron, "scheduledTime": scheduled_ms }).to_string();
  let mut headers = http::HeaderMap::new();
  headers.insert(SCHEDULED_HEADER, http::HeaderValue::from_str(&event).map_err(|e| e.to_string())?);
  let request = WorkerRequest {
    method: http::Method::GET,
    url: format!("http://{}.scheduled/", deployment.name()),
    headers,
    body: None,
    request_id: Some(format!("cron-{scheduled_ms}")),
  };
  match worker.fetch(request).await {
    Ok(response) if response.status() == http::StatusCode::NO_CONTENT => Ok(()),
    Ok(response) => Err(format!("the run answered {}", response.status())),
    Err(error) => {
      if matches!(error, WorkerError::Terminated(_)) {
        picked.slot.reap_retired().await;
      }
      Err(error.to_string())
    }
  }
}

/// Runs every deployed worker's crons for as long as the node runs. With `cluster`, a tick
/// runs here only if this node claims it first.
pub async fn schedule(node: Arc<Workers>, cluster: Option<Arc<tokio::sync::OnceCell<Cluster>>>) {
  let mut parsed: HashMap<String, croner::Cron> = HashMap::new();
  let mut claims: Option<kv::Store> = None;
  let mut last: DateTime<Utc> = Utc::now();
  loop {
    // Wake just after each second turns.
    let into_second = Duration::from_nanos(u64::from(Utc::now().timestamp_subsec_nanos()));
    tokio::time::sleep(Duration::from_secs(1).saturating_sub(into_second) + Duration::from_millis(5)).await;
    let now = Utc::now();
    for deployment in node.router().deployments().iter().filter(|d| !d.worker.crons.is_empty()) {
      for expression in &deployment.worker.crons {
        let cron = match parsed.get(expression) {
          Some(cron) => cron.clone(),
          None => match parse(expression) {
            Ok(cron) => parsed.entry(expression.clone()).or_insert(cron).clone(),
            Err(e) => {
              tracing::error!(worker = deployment.name(), "{e}");
              continue;
            }
          },
        };
        let Ok(tick) = cron.find_next_occurrence(&last, false) else { continue };
        if tick > now {
          continue;
        }
        if let Some(cell) = &cluster {
          if claims.is_none() {
            if let Some(cluster) = cell.get() {
              claims = cluster.ticks_bucket(TICKS).await.ok();
            }
          }
          let Some(bucket) = &claims else {
            tracing::warn!(
              worker = deployment.name(),
              cron = expression,
              "skipped a tick: not connected to the cluster"
            );
            continue;
          };
          let key = format!("{}.{}.{:08x}", deployment.name(), tick.timestamp(), fnv(expression));
          match bucket.create(&key, bytes::Bytes::from(node_name())).await {
            Ok(_) => {}
            Err(e) if e.kind() == kv::CreateErrorKind::AlreadyExists => {
              tracing::info!(
                worker = deployment.name(),
                cron = expression,
                tick = tick.timestamp(),
                "scheduled tick taken by another node"
              );
              continue;
            }
            Err(e) => {
              tracing::warn!(
                worker = deployment.name(),
                cron = expression,
                "skipped a tick: cannot claim it: {e}"
              );
              continue;
            }
          }
        }
        let (node, deployment, expression) = (node.clone(), deployment.clone(), expression.clone());
        tokio::spawn(async move {
          let started = std::time::Instant::now();
          match run(&node, &deployment, &expression, tick.timestamp_millis()).await {
            Ok(()) => tracing::info!(
              worker = deployment.name(),
              cron = expression,
              tick = tick.timestamp(),
              wall_ms = started.elapsed().as_secs_f64() * 1000.0,
              "scheduled run"
            ),
            Err(reason) => tracing::error!(
              worker = deployment.name(),
              cron = expression,
              tick = tick.timestamp(),
              "scheduled run failed: {reason}"
            ),
          }
        });
      }
    }
    last = now;
  }
}

fn node_name() -> String {
  std::process::id().to_string()
}

/// A short stable hash of a cron expression, for claim keys.
fn fnv(text: &str) -> u32 {
  text.bytes().fold(0x811c_9dc5u32, |hash, b| (hash ^ u32::from(b)).wrapping_mul(0x0100_0193))
}

#[cfg(test)]
mod tests {
  use super::*;

  #[test]
  fn five_and_six_field_expressions_parse_and_bad_ones_say_why() {
    assert!(parse("*/5 * * * *").is_ok());
    assert!(parse("*/2 * * * * *").is_ok());
    let error = parse("every minute").unwrap_err();
    assert!(error.contains("every minute"), "{error}");
  }
}
