//! Stage 2, routing: the request's id, what it asks for, the deployment that serves it (by
//! `Host` and path, through the routing table of the moment), and its trace span: the child
//! of the client's (or the router's) trace context, put on the request so that the worker's
//! subrequests are its children. Health checks and unknown hosts get no span.

use std::time::Instant;

use http::Request;
use opentelemetry::trace::SpanKind;

use crate::serve::listen::Connection;
use crate::serve::pipeline::Exchange;
use crate::serve::pipeline::Ran;
use crate::serve::respond;
use crate::serve::Node;

/// What `request` asks for, and of which deployment.
pub fn route<B>(node: &Node, request: &mut Request<B>, connection: Connection, started: Instant) -> Exchange {
  let method = request.method().clone();
  let path = request.uri().path_and_query().map(|p| p.as_str().to_owned()).unwrap_or_else(|| "/".into());
  let host = host(request).to_owned();
  let deployment = node.router().route(&host, &path).cloned();
  let span = deployment.as_ref().map(|_| {
    let span = node.tracing().start(request.headers(), || method.to_string(), SpanKind::Server);
    span.propagate(request.headers_mut());
    span
  });
  Exchange {
    started,
    request_id: respond::request_id(),
    method,
    path,
    host,
    peer: connection.peer,
    tls: connection.tls,
    deployment,
    span,
    ran: Ran::default(),
  }
}

/// The host a request names: its `Host` header, or (HTTP/2) its authority, else `localhost`.
pub fn host<B>(request: &Request<B>) -> &str {
  request
    .headers()
    .get(http::header::HOST)
    .and_then(|h| h.to_str().ok())
    .or_else(|| request.uri().authority().map(|a| a.as_str()))
    .unwrap_or("localhost")
}

#[cfg(test)]
mod tests {
  use super::*;

  #[test]
  fn the_host_header_wins_then_the_authority() {
    let request = Request::builder().uri("http://a.example/x").header("host", "b.example").body(()).unwrap();
    assert_eq!(host(&request), "b.example");
    let request = Request::builder().uri("http://a.example/x").body(()).unwrap();
    assert_eq!(host(&request), "a.example");
    let request = Request::builder().uri("/x").body(()).unwrap();
    assert_eq!(host(&request), "localhost");
  }
}
