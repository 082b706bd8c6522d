//! What the admin listener answers itself: `/metrics` (Prometheus text), `/healthz` (the
//! process is alive) and `/readyz` (the node takes traffic: its workers are loaded and it is
//! not draining), and the admin token ([`AdminToken`], the one check of it) the deploy API and
//! the dashboard sit behind. The two health endpoints also answer on the worker listener, for
//! hosts no worker serves. The admin listener's routes, those included, are `node::admin`.

use http::header;
use http::HeaderValue;
use http::Request;
use http::Response;
use http::StatusCode;
use http_body_util::BodyExt;
use http_body_util::Full;
use sha2::Digest as _;
use sha2::Sha256;

use crate::proto::Body;
use crate::serve::Node;

/// The admin token, kept as its SHA-256 digest and compared without an early exit.
#[derive(Clone)]
pub struct AdminToken {
  digest: [u8; 32],
}

impl AdminToken {
  pub fn new(token: &str) -> AdminToken {
    AdminToken { digest: Sha256::digest(token.as_bytes()).into() }
  }

  /// Whether `given` is the token.
  pub fn matches(&self, given: &str) -> bool {
    let given: [u8; 32] = Sha256::digest(given.as_bytes()).into();
    given.iter().zip(self.digest.iter()).fold(0u8, |acc, (a, b)| acc | (a ^ b)) == 0
  }

  /// Whether `request` carries `Authorization: Bearer <the token>`.
  pub fn bearer<B>(&self, request: &Request<B>) -> bool {
    let given = request
      .headers()
      .get(header::AUTHORIZATION)
      .and_then(|v| v.to_str().ok())
      .and_then(|v| v.strip_prefix("Bearer "));
    given.is_some_and(|given| self.matches(given))
  }

  /// A key derived from the token (for signing the dashboard's session cookies): changing the
  /// token ends every session.
  pub fn derived_key(&self, purpose: &str) -> [u8; 32] {
    let mut hasher = Sha256::new();
    hasher.update(purpose.as_bytes());
    hasher.update(self.digest);
    hasher.finalize().into()
  }
}

/// A small text response.
pub fn text(status: StatusCode, body: String, content_type: &'static str) -> Response<Body> {
  let mut response = Response::new(Full::new(bytes::Bytes::from(body)).map_err(|e| match e {}).boxed());
  *response.status_mut() = status;
  response.headers_mut().insert(header::CONTENT_TYPE, HeaderValue::from_static(content_type));
  response
}

/// `/healthz` or `/readyz`; `None` for any other path.
pub fn health(node: &Node, path: &str) -> Option<Response<Body>> {
  let plain = "text/plain; charset=utf-8";
  match path {
    "/healthz" => Some(text(StatusCode::OK, "ok\n".into(), plain)),
    "/readyz" if node.is_ready() => Some(text(StatusCode::OK, "ready\n".into(), plain)),
    "/readyz" => Some(text(StatusCode::SERVICE_UNAVAILABLE, "not ready\n".into(), plain)),
    _ => None,
  }
}

/// `/metrics`: the Prometheus text, with the queues' backlogs and the cache's state read now.
pub async fn metrics(node: &Node) -> Response<Body> {
  match node.bindings.queues.list().await {
    Ok(queues) => {
      for queue in &queues {
        for consumer in &queue.consumers {
          node.metrics().queue_state(&queue.queue, &consumer.consumer, consumer.backlog, consumer.in_flight);
        }
      }
    }
    Err(e) => tracing::warn!("cannot read the queues' backlog for /metrics: {e}"),
  }
  let body = node.metrics().encode(&node.cache().scrape().await);
  text(StatusCode::OK, body, crate::observe::metrics::CONTENT_TYPE)
}
