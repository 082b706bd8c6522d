//! The one place where a failed request becomes an HTTP response.
//!
//! The client learns only that the worker failed and the request id to quote; the
//! exception, its stack and whatever the handler returned go to the node's log under that
//! id. Nothing of one tenant's failure is ever shown to another tenant's client.

use std::sync::atomic::AtomicU64;
use std::sync::atomic::Ordering;

use edge_runtime::LoadError;
use edge_runtime::ResponseBody;
use edge_runtime::WorkerError;
use http::header;
use http::HeaderValue;
use http::Response;
use http::StatusCode;

/// The response header that carries a request's id.
pub const REQUEST_ID_HEADER: &str = "x-request-id";

/// A short id, unique within this process and unlikely to repeat across processes.
pub fn request_id() -> String {
  static COUNTER: AtomicU64 = AtomicU64::new(0);
  static SEED: std::sync::OnceLock<u64> = std::sync::OnceLock::new();
  let seed = *SEED.get_or_init(|| {
    use std::hash::BuildHasher;
    std::collections::hash_map::RandomState::new().hash_one(std::process::id())
  });
  let n = COUNTER.fetch_add(1, Ordering::Relaxed);
  format!("{:016x}", seed.wrapping_add(n.wrapping_mul(0x9E37_79B9_7F4A_7C15)))
}

/// Logs `error` for the operator and answers the client without its details.
pub fn worker_failure(worker: &str, request_id: &str, error: &WorkerError) -> Response<ResponseBody> {
  match error {
    WorkerError::Exception { message, stack } => {
      tracing::error!(
        worker,
        "request {request_id}: uncaught exception in the fetch handler: {message}\n{stack}"
      );
    }
    WorkerError::Terminated(reason) => {
      tracing::warn!(worker, limit = ?reason, "request {request_id}: {reason}; the isolate is retired");
      return limit_response(request_id, &reason.to_string());
    }
    other => tracing::error!(worker, "request {request_id}: {other}"),
  }
  let (status, reason) = if error.is_worker_fault() {
    (StatusCode::INTERNAL_SERVER_ERROR, "the worker failed to handle the request")
  } else {
    (StatusCode::SERVICE_UNAVAILABLE, "the worker is not available")
  };
  plain(
    status,
    format!(
      "{} {}: {reason}.\nrequest id: {request_id}\n",
      status.as_u16(),
      status.canonical_reason().unwrap_or("")
    ),
  )
}

/// A worker that could not (re)start for a request.
pub fn load_failure(worker: &str, request_id: &str, error: &LoadError) -> Response<ResponseBody> {
  if let LoadError::Terminated(reason) = error {
    tracing::warn!(worker, limit = ?reason, "request {request_id}: {reason}");
    return limit_response(request_id, &reason.to_string());
  }
  if let LoadError::NodeMemory { .. } = error {
    tracing::warn!(worker, "request {request_id}: {error}");
    return limit_response(request_id, &error.to_string());
  }
  tracing::error!(worker, "request {request_id}: the worker could not start: {error}");
  plain(
    StatusCode::SERVICE_UNAVAILABLE,
    format!("503 Service Unavailable: the worker could not start.\nrequest id: {request_id}\n"),
  )
}

/// `503` for a request whose isolate host died under it and that could not be sent again (it
/// had a body, or its method is not idempotent).
pub fn host_lost(worker: &str, request_id: &str, cause: &str) -> Response<ResponseBody> {
  tracing::warn!(worker, "request {request_id}: its isolate host died ({cause})");
  plain(
    StatusCode::SERVICE_UNAVAILABLE,
    format!("503 Service Unavailable: the worker's isolate host died while answering ({cause}); the request was not sent again, as it had a body or its method is not idempotent.\nrequest id: {request_id}\n"),
  )
}

/// `503` naming the limit the worker hit.
fn limit_response(request_id: &str, limit: &str) -> Response<ResponseBody> {
  plain(
    StatusCode::SERVICE_UNAVAILABLE,
    format!("503 Service Unavailable: {limit}.\nrequest id: {request_id}\n"),
  )
}

/// `413` for a request body over the worker's limit.
pub fn body_too_large(request_id: &str, limit: u64) -> Response<ResponseBody> {
  plain(
    StatusCode::PAYLOAD_TOO_LARGE,
    format!("413 Payload Too Large: the request body exceeds the limit of {limit} bytes.\nrequest id: {request_id}\n"),
  )
}

/// `429` for a request beyond the worker's rate limit, with `retry-after` in whole seconds.
pub fn rate_limited(
  request_id: &str,
  worker: &str,
  limit: &crate::manifest::RateLimit,
  wait: std::time::Duration,
) -> Response<ResponseBody> {
  let seconds = wait.as_secs_f64().ceil().max(1.0) as u64;
  let mut response = plain(
    StatusCode::TOO_MANY_REQUESTS,
    format!(
      "429 Too Many Requests: {worker} takes {} requests a second (bursts of {}); retry after {seconds} s.\nrequest id: {request_id}\n",
      limit.requests_per_second,
      limit.burst()
    ),
  );
  response.headers_mut().insert(header::RETRY_AFTER, HeaderValue::from(seconds));
  response
}

/// `503` for a worker whose daily CPU budget is used up.
pub fn budget_exhausted(
  request_id: &str,
  worker: &str,
  stop: &crate::observe::budget::Exhausted,
) -> Response<ResponseBody> {
  let seconds = stop.resets_in.as_secs().max(1);
  let mut response = plain(
    StatusCode::SERVICE_UNAVAILABLE,
    format!(
      "503 Service Unavailable: {worker} has used its daily CPU budget ({:.0} of {} ms, budget.cpu_ms_per_day in its edge.toml); it resets at 00:00 UTC, in {}h {:02}m.\nrequest id: {request_id}\n",
      stop.used_ms,
      stop.budget_ms,
      seconds / 3600,
      seconds % 3600 / 60
    ),
  );
  response.headers_mut().insert(header::RETRY_AFTER, HeaderValue::from(seconds));
  response
}

/// The answer when a worker's WebSocket cannot be delivered: `426` when the request did not
/// ask to upgrade (a plain request to a WebSocket endpoint), `503` when the worker holds its
/// limit of open sockets on this node.
pub fn websocket_refused(
  request_id: &str,
  worker: &str,
  refused: &crate::serve::websocket::Refused,
) -> Response<ResponseBody> {
  use crate::serve::websocket::Refused;
  let mut response = match refused {
    Refused::NotAnUpgrade => plain(
      StatusCode::UPGRADE_REQUIRED,
      format!(
        "426 Upgrade Required: {worker} answered with a WebSocket; connect with a WebSocket client (HTTP/1.1 with Upgrade: websocket).\nrequest id: {request_id}\n"
      ),
    ),
    Refused::TooMany { limit } => plain(
      StatusCode::SERVICE_UNAVAILABLE,
      format!(
        "503 Service Unavailable: {worker} has {limit} WebSockets open on this node, its limit (limits.websockets in its edge.toml).\nrequest id: {request_id}\n"
      ),
    ),
  };
  let headers = response.headers_mut();
  match refused {
    Refused::NotAnUpgrade => {
      headers.insert(header::UPGRADE, HeaderValue::from_static("websocket"));
      headers.insert(header::CONNECTION, HeaderValue::from_static("upgrade"));
    }
    Refused::TooMany { .. } => {
      headers.insert(header::RETRY_AFTER, HeaderValue::from(1));
    }
  }
  response
}

/// `404` for a host no worker serves.
pub fn unknown_host(request_id: &str, host: &str) -> Response<ResponseBody> {
  plain(
    StatusCode::NOT_FOUND,
    format!("404 Not Found: no worker serves the host {host:?}.\nrequest id: {request_id}\n"),
  )
}

/// A plain-text response made by the node itself.
pub fn plain(status: StatusCode, body: String) -> Response<ResponseBody> {
  let mut response = Response::new(ResponseBody::full(body));
  *response.status_mut() = status;
  response.headers_mut().insert(header::CONTENT_TYPE, HeaderValue::from_static("text/plain; charset=utf-8"));
  response
}
