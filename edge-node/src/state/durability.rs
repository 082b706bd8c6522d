//! Whether the cluster's NATS keeps what it acknowledges. JetStream acknowledges a write once
//! it is in the server's memory and flushes its files every `sync_interval` (two minutes by
//! default), so a crash in that window loses acknowledged deploys, KV writes and queued
//! messages, unless the server runs with `sync_interval: always`. The client protocol does not
//! say which; the server's monitoring endpoint does (`/varz`, `jetstream.config`).

use std::time::Duration;

use bytes::Bytes;
use http_body_util::BodyExt as _;
use http_body_util::Empty;
use serde::Deserialize;

/// How a nats-server writes JetStream to disk.
#[derive(Clone, Debug, PartialEq)]
pub enum Sync {
  /// Every write is on disk before it is acknowledged (`sync_interval: always`).
  Always,
  /// Files are flushed every so often; writes acknowledged since the last flush can be lost.
  Every(Duration),
}

#[derive(Deserialize)]
struct Varz {
  jetstream: Option<JetStreamVarz>,
}

#[derive(Deserialize)]
struct JetStreamVarz {
  config: Option<JetStreamConfig>,
}

#[derive(Deserialize)]
struct JetStreamConfig {
  #[serde(default)]
  sync_always: bool,
  /// Nanoseconds.
  #[serde(default)]
  sync_interval: u64,
}

/// Reads how the server whose monitoring endpoint is `monitor` (`http://host:port`) syncs
/// JetStream to disk.
pub async fn server_sync(monitor: &str) -> Result<Sync, String> {
  let client = hyper_util::client::legacy::Client::builder(hyper_util::rt::TokioExecutor::new())
    .build_http::<Empty<Bytes>>();
  let url = format!("{}/varz", monitor.trim_end_matches('/'));
  let request = http::Request::get(&url).body(Empty::new()).map_err(|e| format!("{url}: {e}"))?;
  let response = tokio::time::timeout(Duration::from_secs(5), client.request(request))
    .await
    .map_err(|_| format!("{url} did not answer within 5 s"))?
    .map_err(|e| format!("{url}: {e}"))?;
  if !response.status().is_success() {
    return Err(format!("{url} answered {}", response.status()));
  }
  let body = response.into_body().collect().await.map_err(|e| format!("{url}: {e}"))?.to_bytes();
  parse(&body).map_err(|e| format!("{url}: {e}"))
}

fn parse(body: &[u8]) -> Result<Sync, String> {
  let varz: Varz = serde_json::from_slice(body).map_err(|e| format!("not nats-server's /varz: {e}"))?;
  let config = varz
    .jetstream
    .and_then(|js| js.config)
    .ok_or_else(|| "JetStream is not enabled on this server".to_owned())?;
  Ok(if config.sync_always { Sync::Always } else { Sync::Every(Duration::from_nanos(config.sync_interval)) })
}

#[cfg(test)]
mod tests {
  use super::*;

  #[test]
  fn reads_the_servers_sync_setting() {
    let always = br#"{"jetstream":{"config":{"sync_interval":120000000000,"sync_always":true}}}"#;
    assert_eq!(parse(always), Ok(Sync::Always));
    let default = br#"{"jetstream":{"config":{"sync_interval":120000000000}}}"#;
    assert_eq!(parse(default), Ok(Sync::Every(Duration::from_secs(120))));
    assert!(parse(br#"{"server_id":"x"}"#).unwrap_err().contains("JetStream is not enabled"));
    assert!(parse(b"<html>").unwrap_err().contains("not nats-server's /varz"));
  }
}
