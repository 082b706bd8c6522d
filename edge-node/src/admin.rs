//! The admin listener: `/metrics` (Prometheus text), `/healthz` (the process is alive) and
//! `/readyz` (the node takes traffic: its workers are loaded and it is not draining). The
//! two health endpoints also answer on the worker listener, for hosts no worker serves.

use http::header;
use http::HeaderValue;
use http::Request;
use http::Response;
use http::StatusCode;
use http_body_util::BodyExt;
use http_body_util::Full;

use crate::server::Body;
use crate::server::Node;

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
  match path {
    "/metrics" if request.method() == http::Method::GET => {
      let body = node.metrics().encode(&node.cache().scrape().await);
      text(StatusCode::OK, body, crate::metrics::CONTENT_TYPE)
    }
    _ => text(
      StatusCode::NOT_FOUND,
      format!("404 Not Found: the admin listener serves /metrics, /healthz and /readyz, not {path}\n"),
      "text/plain; charset=utf-8",
    ),
  }
}
