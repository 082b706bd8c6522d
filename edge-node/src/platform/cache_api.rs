//! The Cache API behind `caches.default` and `caches.open(name)`: responses kept in this
//! node's memory (moka), bounded by size, each worker's apart from every other's.
//!
//! `put` honours the response's `Cache-Control`: `no-store` and `private` are not kept,
//! `s-maxage` (else `max-age`) sets how long the entry lives; without either it lives until
//! the size bound evicts it. `Vary` names request headers whose values at `put` must equal
//! the matching request's (one variant per URL: the last `put` wins).

use std::sync::Arc;
use std::time::Duration;
use std::time::Instant;

use bytes::Bytes;
use serde::Deserialize;

/// (worker, cache name, URL).
type Key = (Arc<str>, String, String);

/// One kept response.
#[derive(Debug)]
pub struct Kept {
  status: u16,
  headers: Vec<(String, String)>,
  body: Bytes,
  /// The request headers `Vary` names, with their values at `put` (names lowercase).
  vary: Vec<(String, Option<String>)>,
  ttl: Option<Duration>,
  stored: Instant,
}

struct ByTtl;

impl moka::Expiry<Key, Arc<Kept>> for ByTtl {
  fn expire_after_create(&self, _: &Key, value: &Arc<Kept>, _: Instant) -> Option<Duration> {
    value.ttl
  }
}

/// Every worker's caches on this node.
pub struct ResponseCache {
  entries: moka::future::Cache<Key, Arc<Kept>>,
}

impl std::fmt::Debug for ResponseCache {
  fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
    f.debug_struct("ResponseCache").field("entries", &self.entries.entry_count()).finish()
  }
}

#[derive(Deserialize)]
struct Args {
  cache: String,
  url: String,
  #[serde(default)]
  headers: Vec<(String, String)>,
  #[serde(default)]
  status: u16,
  #[serde(default, rename = "requestHeaders")]
  request_headers: Vec<(String, String)>,
}

fn header<'a>(headers: &'a [(String, String)], name: &str) -> Option<&'a str> {
  headers.iter().find(|(n, _)| n.eq_ignore_ascii_case(name)).map(|(_, v)| v.as_str())
}

/// How long a response may be kept: `Err` when it may not be kept at all.
fn freshness(headers: &[(String, String)]) -> Result<Option<Duration>, ()> {
  let mut max_age = None;
  let mut shared_max_age = None;
  for value in headers.iter().filter(|(n, _)| n.eq_ignore_ascii_case("cache-control")).map(|(_, v)| v) {
    for directive in value.split(',').map(|d| d.trim().to_ascii_lowercase()) {
      match directive.split_once('=') {
        None if directive == "no-store" || directive == "private" => return Err(()),
        Some(("max-age", seconds)) => max_age = seconds.trim_matches('"').parse::<u64>().ok(),
        Some(("s-maxage", seconds)) => shared_max_age = seconds.trim_matches('"').parse::<u64>().ok(),
        Some(("private", _)) => return Err(()),
        _ => {}
      }
    }
  }
  match shared_max_age.or(max_age) {
    Some(0) => Err(()),
    Some(seconds) => Ok(Some(Duration::from_secs(seconds))),
    None => Ok(None),
  }
}

impl ResponseCache {
  /// At most `capacity_bytes` of bodies and headers.
  pub fn new(capacity_bytes: u64) -> ResponseCache {
    let entries = moka::future::Cache::builder()
      .max_capacity(capacity_bytes)
      .weigher(|key: &Key, kept: &Arc<Kept>| {
        let headers: usize = kept.headers.iter().map(|(n, v)| n.len() + v.len()).sum();
        (key.2.len() + headers + kept.body.len()).try_into().unwrap_or(u32::MAX)
      })
      .expire_after(ByTtl)
      .build();
    ResponseCache { entries }
  }

  /// Answers `match`, `put` and `delete` from `worker`'s isolate.
  pub async fn call(
    &self,
    worker: &Arc<str>,
    method: &str,
    args: &str,
    body: Bytes,
  ) -> Result<(String, Option<Bytes>), String> {
    let args: Args = serde_json::from_str(args).map_err(|e| format!("a Cache API call: {e}"))?;
    let key: Key = (worker.clone(), args.cache.clone(), args.url.clone());
    match method {
      "match" => {
        let Some(kept) = self.entries.get(&key).await else { return Ok((r#"{"found":false}"#.into(), None)) };
        let varies = kept.vary.iter().any(|(name, value)| header(&args.headers, name) != value.as_deref());
        if varies {
          return Ok((r#"{"found":false}"#.into(), None));
        }
        let mut headers = kept.headers.clone();
        headers.retain(|(n, _)| !n.eq_ignore_ascii_case("age") && !n.eq_ignore_ascii_case("cf-cache-status"));
        headers.push(("age".into(), kept.stored.elapsed().as_secs().to_string()));
        headers.push(("cf-cache-status".into(), "HIT".into()));
        let head = serde_json::json!({ "found": true, "status": kept.status, "headers": headers });
        Ok((head.to_string(), Some(kept.body.clone())))
      }
      "put" => {
        let Ok(ttl) = freshness(&args.headers) else {
          return Ok((r#"{"stored":false}"#.into(), None));
        };
        let vary = header(&args.headers, "vary")
          .unwrap_or("")
          .split(',')
          .map(|n| n.trim().to_ascii_lowercase())
          .filter(|n| !n.is_empty())
          .map(|name| {
            let value = header(&args.request_headers, &name).map(str::to_owned);
            (name, value)
          })
          .collect();
        let kept =
          Kept { status: args.status, headers: args.headers, body, vary, ttl, stored: Instant::now() };
        self.entries.insert(key, Arc::new(kept)).await;
        Ok((r#"{"stored":true}"#.into(), None))
      }
      "delete" => {
        let deleted = self.entries.remove(&key).await.is_some();
        Ok((serde_json::json!({ "deleted": deleted }).to_string(), None))
      }
      other => Err(format!("the Cache API has no method {other}")),
    }
  }
}

#[cfg(test)]
mod tests {
  use super::*;

  fn cc(value: &str) -> Vec<(String, String)> {
    vec![("Cache-Control".into(), value.into())]
  }

  #[test]
  fn cache_control_decides_what_is_kept_and_for_how_long() {
    assert_eq!(freshness(&cc("public, max-age=60")), Ok(Some(Duration::from_secs(60))));
    assert_eq!(freshness(&cc("max-age=60, s-maxage=600")), Ok(Some(Duration::from_secs(600))));
    assert_eq!(freshness(&cc("no-store")), Err(()));
    assert_eq!(freshness(&cc("private, max-age=60")), Err(()));
    assert_eq!(freshness(&cc("max-age=0")), Err(()));
    assert_eq!(freshness(&[]), Ok(None));
  }
}
