//! The admin listener: `/metrics` (Prometheus text), `/healthz` (the process is alive) and
//! `/readyz` (the node takes traffic: its workers are loaded and it is not draining). The
//! two health endpoints also answer on the worker listener, for hosts no worker serves.
//! With an admin token, the deploy API (`/v1/`, `deploy.rs`) and the dashboard
//! (`/dashboard`, `dashboard/`) answer here too, both behind that token.

use http::header;
use http::HeaderValue;
use http::Request;
use http::Response;
use http::StatusCode;
use http_body_util::BodyExt;
use http_body_util::Full;
use sha2::Digest as _;
use sha2::Sha256;

use crate::server::Body;
use crate::server::Node;

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

fn text(status: StatusCode, body: String, content_type: &'static str) -> Response<Body> {
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

/// Answers a request on the admin listener.
pub async fn handle(node: &Node, request: Request<hyper::body::Incoming>) -> Response<Body> {
  let path = request.uri().path().to_owned();
  let path = path.as_str();
  if let Some(response) = health(node, path) {
    return response;
  }
  if path.starts_with("/v1/") {
    return match node.deploy() {
      Some(api) => api.handle(node, request).await,
      None => text(
        StatusCode::NOT_FOUND,
        "404 Not Found: this node has no deploy API; start it with data_dir and admin_token\n".into(),
        "text/plain; charset=utf-8",
      ),
    };
  }
  if path == "/dashboard" || path.starts_with("/dashboard/") {
    return crate::dashboard::handle(node, request).await;
  }
  match path {
    "/metrics" if request.method() == http::Method::GET => {
      if let Some(queues) = node.cache().bindings().map(|b| b.queues.clone()) {
        match queues.list().await {
          Ok(state) => node.metrics().queue_state(&state),
          Err(e) => tracing::warn!("cannot read the queues' backlog for /metrics: {e}"),
        }
      }
      let body = node.metrics().encode(&node.cache().scrape().await);
      text(StatusCode::OK, body, crate::metrics::CONTENT_TYPE)
    }
    _ => text(
      StatusCode::NOT_FOUND,
      format!(
        "404 Not Found: the admin listener serves /metrics, /healthz, /readyz, /dashboard and /v1/, not {path}\n"
      ),
      "text/plain; charset=utf-8",
    ),
  }
}
