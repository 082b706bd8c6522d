//! The deploy API's calls that reach a running worker's platform rather than its versions: run
//! its `scheduled` handler now (`trigger`), its KV namespaces, the queues, its usage, and its
//! live events (`tail`).

use std::collections::BTreeMap;

use http::Method;
use http::Request;
use http::Response;
use http::StatusCode;
use http_body_util::BodyExt;
use http_body_util::Full;
use serde::Deserialize;

use crate::proto::Body;
use crate::serve::Node;

use super::error::json;
use super::error::ApiError;

/// `POST /v1/workers/{name}/trigger`: `edge trigger`.
pub(super) async fn trigger(
  node: &Node,
  name: &str,
  request: Request<crate::proto::ClientBody>,
) -> Result<Response<Body>, ApiError> {
  #[derive(Default, Deserialize)]
  #[serde(deny_unknown_fields)]
  struct Trigger {
    cron: Option<String>,
  }
  let wanted: Trigger = read_json(request, r#"{"cron": "<expression>"}"#).await?;
  let deployment = node
    .router()
    .get(name)
    .cloned()
    .ok_or_else(|| ApiError(StatusCode::NOT_FOUND, format!("no worker named {name:?} on this node")))?;
  let cron = match wanted.cron {
    Some(cron) => cron,
    None => deployment.worker.crons.first().cloned().ok_or_else(|| {
      ApiError(StatusCode::BAD_REQUEST, format!("worker {name:?} has no crons: say which with --cron"))
    })?,
  };
  crate::platform::crons::parse(&cron).map_err(|m| ApiError(StatusCode::BAD_REQUEST, m))?;
  let now =
    std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map_or(0, |d| d.as_millis() as i64);
  match crate::platform::crons::run(node.workers(), &deployment, &cron, now).await {
    Ok(()) => {
      tracing::info!(worker = name, cron, "scheduled run (triggered)");
      Ok(json(StatusCode::OK, &serde_json::json!({ "name": name, "cron": cron, "ok": true })))
    }
    Err(reason) => {
      tracing::error!(worker = name, cron, "scheduled run failed (triggered): {reason}");
      Err(ApiError(StatusCode::UNPROCESSABLE_ENTITY, format!("the scheduled run failed: {reason}")))
    }
  }
}

/// A small JSON body (an empty one is the default value); `expected` shows its shape in errors.
pub(super) async fn read_json<T: serde::de::DeserializeOwned + Default>(
  request: Request<crate::proto::ClientBody>,
  expected: &str,
) -> Result<T, ApiError> {
  let body = http_body_util::Limited::new(request.into_body(), 4096)
    .collect()
    .await
    .map_err(|e| ApiError(StatusCode::BAD_REQUEST, format!("cannot read the body: {e}")))?
    .to_bytes();
  if body.is_empty() {
    return Ok(T::default());
  }
  serde_json::from_slice(&body)
    .map_err(|e| ApiError(StatusCode::BAD_REQUEST, format!("expected {expected}: {e}")))
}

/// `/v1/kv/{namespace}/...`: the node's KV store, for `edge kv`.
pub(super) async fn kv_api(
  node: &Node,
  namespace: &str,
  rest: &[&str],
  request: Request<crate::proto::ClientBody>,
) -> Result<Response<Body>, ApiError> {
  use crate::platform::kv;
  crate::platform::kv::check_namespace(namespace).map_err(|m| ApiError(StatusCode::BAD_REQUEST, m))?;
  let store = node.bindings.kv.clone();
  let invalid = |e: kv::KvError| match e {
    kv::KvError::Invalid(m) => ApiError(StatusCode::BAD_REQUEST, format!("KV {m}")),
    kv::KvError::Storage(m) => ApiError(StatusCode::BAD_GATEWAY, format!("KV storage failed: {m}")),
  };
  let query: BTreeMap<String, String> = request
    .uri()
    .query()
    .unwrap_or("")
    .split('&')
    .filter_map(|pair| pair.split_once('='))
    .map(|(k, v)| (k.to_owned(), percent_encoding::percent_decode_str(v).decode_utf8_lossy().into_owned()))
    .collect();
  let now = crate::proto::geo::now();
  let method = request.method().clone();
  match (method, rest) {
    (Method::GET, ["keys"]) => {
      let limit = query.get("limit").and_then(|l| l.parse().ok()).unwrap_or(kv::MAX_LIST);
      let prefix = query.get("prefix").map_or("", String::as_str);
      let listing = store
        .list(namespace, prefix, limit, query.get("cursor").map(String::as_str), now)
        .await
        .map_err(invalid)?;
      Ok(json(StatusCode::OK, &listing))
    }
    (method, ["values", key]) => {
      let key = percent_encoding::percent_decode_str(key)
        .decode_utf8()
        .map_err(|_| ApiError(StatusCode::BAD_REQUEST, "the key is not UTF-8".into()))?
        .into_owned();
      match method {
        Method::GET => match store.get(namespace, &key, now).await.map_err(invalid)? {
          Some(entry) => {
            let mut response = Response::new(Full::new(entry.value).map_err(|e| match e {}).boxed());
            response
              .headers_mut()
              .insert(http::header::CONTENT_TYPE, http::HeaderValue::from_static("application/octet-stream"));
            Ok(response)
          }
          None => Err(ApiError(StatusCode::NOT_FOUND, format!("no key {key:?} in namespace {namespace:?}"))),
        },
        Method::PUT => {
          let ttl = match query.get("expiration_ttl") {
            Some(text) => Some(text.parse::<u64>().map_err(|_| {
              ApiError(StatusCode::BAD_REQUEST, "expiration_ttl: a number of seconds".into())
            })?),
            None => None,
          };
          let body = http_body_util::Limited::new(request.into_body(), kv::MAX_VALUE_BYTES + 1)
            .collect()
            .await
            .map_err(|e| ApiError(StatusCode::PAYLOAD_TOO_LARGE, format!("cannot take the value: {e}")))?
            .to_bytes();
          let entry = kv::entry(body, None, ttl, None, now).map_err(invalid)?;
          store.put(namespace, &key, entry).await.map_err(invalid)?;
          Ok(json(StatusCode::OK, &serde_json::json!({ "namespace": namespace, "key": key })))
        }
        Method::DELETE => {
          store.delete(namespace, &key).await.map_err(invalid)?;
          Ok(json(
            StatusCode::OK,
            &serde_json::json!({ "namespace": namespace, "key": key, "deleted": true }),
          ))
        }
        other => Err(ApiError(StatusCode::METHOD_NOT_ALLOWED, format!("{other} is not a KV call"))),
      }
    }
    (method, _) => Err(ApiError(
      StatusCode::NOT_FOUND,
      format!("no such call: {method} /v1/kv/{namespace}/{}", rest.join("/")),
    )),
  }
}

/// `/v1/queues`: `GET /v1/queues` (every queue and its consumers' backlog),
/// `POST /v1/queues/{queue}/messages` (`{"messages": [{"contentType", "body"}]}`, answered
/// once stored) and `GET /v1/queues/{queue}/messages?count=N` (the newest N kept).
pub(super) async fn queues_api(
  node: &Node,
  rest: &[&str],
  request: Request<crate::proto::ClientBody>,
) -> Result<Response<Body>, ApiError> {
  let store = node.bindings.queues.clone();
  let failed = |e: crate::platform::queues::QueueError| match e {
    crate::platform::queues::QueueError::Invalid(m) => ApiError(StatusCode::BAD_REQUEST, m),
    crate::platform::queues::QueueError::Storage(m) => {
      ApiError(StatusCode::BAD_GATEWAY, format!("queue storage failed: {m}"))
    }
  };
  let method = request.method().clone();
  match (method, rest) {
    (Method::GET, []) => {
      let queues = store.list().await.map_err(failed)?;
      Ok(json(StatusCode::OK, &serde_json::json!({ "queues": queues })))
    }
    (Method::POST, [queue, "messages"]) => {
      #[derive(Deserialize)]
      struct Send {
        messages: Vec<crate::platform::queues::Outgoing>,
      }
      let body = http_body_util::Limited::new(request.into_body(), 2 * 1024 * 1024)
        .collect()
        .await
        .map_err(|e| ApiError(StatusCode::BAD_REQUEST, format!("cannot read the body: {e}")))?
        .to_bytes();
      let send: Send = serde_json::from_slice(&body).map_err(|e| {
        ApiError(StatusCode::BAD_REQUEST, format!("the body must be {{\"messages\": [...]}}: {e}"))
      })?;
      let ids = store.send(queue, send.messages).await.map_err(failed)?;
      Ok(json(StatusCode::OK, &serde_json::json!({ "queue": queue, "ids": ids })))
    }
    (Method::GET, [queue, "messages"]) => {
      let count = request
        .uri()
        .query()
        .unwrap_or("")
        .split('&')
        .filter_map(|pair| pair.strip_prefix("count="))
        .next()
        .map(|n| n.parse::<usize>().ok().filter(|n| (1..=1000).contains(n)))
        .unwrap_or(Some(20))
        .ok_or_else(|| ApiError(StatusCode::BAD_REQUEST, "count: 1 to 1000".into()))?;
      let messages = store.peek(queue, count).await.map_err(failed)?;
      Ok(json(StatusCode::OK, &serde_json::json!({ "queue": queue, "messages": messages })))
    }
    (method, _) => {
      Err(ApiError(StatusCode::NOT_FOUND, format!("no such call: {method} /v1/queues/{}", rest.join("/"))))
    }
  }
}

/// `GET /v1/workers/{name}/usage[?since=<RFC 3339 | 90m | 24h | 7d>]`: the worker's usage per
/// version and in total (the cluster's, in a cluster), from the hour holding `since` (default:
/// the last 24 hours).
pub(super) async fn usage(node: &Node, name: &str, query: Option<&str>) -> Result<Response<Body>, ApiError> {
  let meter =
    node.meter.as_ref().ok_or_else(|| ApiError(StatusCode::NOT_FOUND, "this node keeps no usage".into()))?;
  let since = query
    .unwrap_or("")
    .split('&')
    .find_map(|pair| pair.strip_prefix("since="))
    .map(|v| percent_encoding::percent_decode_str(v).decode_utf8_lossy().into_owned());
  let since =
    crate::observe::usage::parse_since(since.as_deref()).map_err(|m| ApiError(StatusCode::BAD_REQUEST, m))?;
  let report = meter.report(name, since).await.map_err(|m| ApiError(StatusCode::BAD_GATEWAY, m))?;
  Ok(json(StatusCode::OK, &report))
}

/// `GET /v1/workers/{name}/tail`: the worker's live events on this node, a JSON line each,
/// until the client goes away. Any name may be followed (a worker deployed later shows up).
pub(super) fn tail(node: &Node, name: &str) -> Response<Body> {
  use futures::StreamExt as _;
  let events = node
    .tail
    .follow(name)
    .map(|line| Ok::<_, Box<dyn std::error::Error + Send + Sync>>(http_body::Frame::data(line)));
  let body = BodyExt::boxed(http_body_util::StreamBody::new(events));
  let mut response = Response::new(body);
  response
    .headers_mut()
    .insert(http::header::CONTENT_TYPE, http::HeaderValue::from_static("application/x-ndjson"));
  response
}
