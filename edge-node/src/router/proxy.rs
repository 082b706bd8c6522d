//! Forwarding one request: choose the node, pass the request on (streamed both ways), and
//! fail over once to the next node when the first cannot be reached.
//!
//! Hop-by-hop headers are dropped both ways; `x-forwarded-for`, `x-forwarded-proto` and
//! `forwarded` are set (a trusted upstream's are extended, anyone else's replaced); geo data
//! for the worker goes as signed headers (`proto::geo`); every answer names its node in
//! `x-edge-node`. A request goes to the next node when the first cannot be reached and its
//! body (if any) was kept (idempotent and at most `REPLAY_LIMIT`); when the exchange broke
//! after it was sent, only an idempotent one does. A streamed body is never replayed. An
//! HTTP/1.1 upgrade (a WebSocket) goes to the node over HTTP/1.1 with its `Upgrade` header
//! kept; once the node answers `101`, the two upgraded connections are joined both ways.

use std::net::SocketAddr;
use std::sync::Arc;

use crate::proto::ClientBody as Incoming;
use bytes::Bytes;
use http::header;
use http::HeaderMap;
use http::HeaderName;
use http::HeaderValue;
use http::Method;
use http::Request;
use http::Response;
use http::StatusCode;
use http_body_util::BodyExt;
use http_body_util::Full;

use super::locate::Placed;
use super::table::Upstream;
use super::State;
use crate::proto::Body;

/// The largest body of an idempotent request kept so that it can be sent to a second node.
pub const REPLAY_LIMIT: u64 = 64 * 1024;

/// The header that names the node that answered.
pub const NODE_HEADER: &str = "x-edge-node";

const HOP_BY_HOP: [&str; 8] = [
  "connection",
  "keep-alive",
  "proxy-connection",
  "proxy-authenticate",
  "proxy-authorization",
  "te",
  "trailer",
  "upgrade",
];

fn text(status: StatusCode, message: &str) -> Response<Body> {
  let mut response =
    Response::new(Full::new(Bytes::from(format!("{message}\n"))).map_err(|e| match e {}).boxed());
  *response.status_mut() = status;
  response.headers_mut().insert(header::CONTENT_TYPE, HeaderValue::from_static("text/plain; charset=utf-8"));
  response
}

/// Drops the hop-by-hop headers, and those the `connection` header names.
fn strip_hop_by_hop(headers: &mut HeaderMap) {
  if headers.contains_key(header::CONNECTION) {
    let named: Vec<HeaderName> = headers
      .get_all(header::CONNECTION)
      .iter()
      .filter_map(|v| v.to_str().ok())
      .flat_map(|v| v.split(','))
      .filter_map(|name| HeaderName::from_bytes(name.trim().as_bytes()).ok())
      .collect();
    for name in named {
      headers.remove(name);
    }
  }
  for name in HOP_BY_HOP {
    headers.remove(name);
  }
  headers.remove(header::TRANSFER_ENCODING);
}

/// The region a request pins, from the header or the `region` query parameter.
fn pinned_region<'a>(request: &'a Request<Incoming>, header_name: &str) -> Option<&'a str> {
  if let Some(value) = request.headers().get(header_name).and_then(|v| v.to_str().ok()) {
    return Some(value.trim()).filter(|v| !v.is_empty());
  }
  request.uri().query()?.split('&').find_map(|pair| pair.strip_prefix("region=")).filter(|v| !v.is_empty())
}

fn is_idempotent(method: &Method) -> bool {
  matches!(
    *method,
    Method::GET | Method::HEAD | Method::OPTIONS | Method::TRACE | Method::PUT | Method::DELETE
  )
}

/// Sets `x-forwarded-for`, `x-forwarded-proto` and `forwarded` for a client at `peer`.
fn set_forwarding(headers: &mut HeaderMap, peer: SocketAddr, placed: &Placed) {
  let ip = peer.ip();
  let host = headers.get(header::HOST).and_then(|h| h.to_str().ok()).unwrap_or("").to_owned();
  let xff = match (placed.trusted, headers.get("x-forwarded-for").and_then(|v| v.to_str().ok())) {
    (true, Some(earlier)) => format!("{earlier}, {ip}"),
    _ => ip.to_string(),
  };
  let node = if ip.is_ipv6() { format!("\"[{ip}]\"") } else { ip.to_string() };
  let element = format!("for={node};proto=http;host=\"{}\"", host.replace('"', ""));
  let forwarded = match (placed.trusted, headers.get(header::FORWARDED).and_then(|v| v.to_str().ok())) {
    (true, Some(earlier)) => format!("{earlier}, {element}"),
    _ => element,
  };
  if let Ok(value) = HeaderValue::from_str(&xff) {
    headers.insert("x-forwarded-for", value);
  }
  if !placed.trusted || !headers.contains_key("x-forwarded-proto") {
    headers.insert("x-forwarded-proto", HeaderValue::from_static("http"));
  }
  if let Ok(value) = HeaderValue::from_str(&forwarded) {
    headers.insert(header::FORWARDED, value);
  }
}

/// A body the router can send more than once, or the one it streams once.
enum Outgoing {
  Kept(Bytes),
  Streamed(Option<Incoming>),
}

impl Outgoing {
  fn take(&mut self) -> Option<Body> {
    match self {
      Outgoing::Kept(bytes) => Some(Full::new(bytes.clone()).map_err(|e| match e {}).boxed()),
      Outgoing::Streamed(body) => body.take().map(|b| b.map_err(Into::into).boxed()),
    }
  }

  fn replayable(&self) -> bool {
    matches!(self, Outgoing::Kept(_))
  }
}

/// Answers one client request, in a span whose trace context the node gets.
pub async fn handle(state: Arc<State>, peer: SocketAddr, mut request: Request<Incoming>) -> Response<Body> {
  let span = state.tracing.start(
    request.headers(),
    || format!("{} router", request.method()),
    opentelemetry::trace::SpanKind::Server,
  );
  span.propagate(request.headers_mut());
  let method = request.method().clone();
  let path = request.uri().path().to_owned();
  let response = route(&state, peer, request).await;
  let status = response.status().as_u16();
  span.finish(
    || {
      let node = response.headers().get(NODE_HEADER).and_then(|v| v.to_str().ok()).unwrap_or("-");
      vec![
        crate::observe::trace::Attribute::new("http.request.method", method.to_string()),
        crate::observe::trace::Attribute::new("url.path", path),
        crate::observe::trace::Attribute::new("http.response.status_code", i64::from(status)),
        crate::observe::trace::Attribute::new("edge.node", node.to_owned()),
      ]
    },
    status >= 500,
  );
  response
}

/// Sends the request to the nearest healthy node (the next one if it cannot be reached).
async fn route(state: &State, peer: SocketAddr, request: Request<Incoming>) -> Response<Body> {
  let placed = state.locator.locate(peer.ip(), request.headers());
  let pinned = pinned_region(&request, &state.config.region_header).map(str::to_owned);
  let candidates = state.table.choose(placed.point, pinned.as_deref(), state.config.tie_radius_km);
  let Some(first) = candidates.first() else {
    return text(StatusCode::SERVICE_UNAVAILABLE, "no healthy edge node to serve this request");
  };
  let path = request.uri().path_and_query().map_or("/", |p| p.as_str()).to_owned();
  if state.config.mode == super::config::Mode::Redirect {
    let mut response = text(StatusCode::TEMPORARY_REDIRECT, &format!("served by {}", first.entry.id));
    if let Ok(location) = HeaderValue::from_str(&format!("{}{path}", first.base)) {
      response.headers_mut().insert(header::LOCATION, location);
    }
    name_node(&mut response, first);
    return response;
  }

  // A WebSocket (or other) upgrade is passed through: the node answers it, then the two
  // connections are joined.
  let mut request = request;
  let upgrade = upgrade_asked(&request).map(|protocol| (protocol, hyper::upgrade::on(&mut request)));
  let (mut parts, body) = request.into_parts();
  strip_hop_by_hop(&mut parts.headers);
  if let Some((protocol, _)) = &upgrade {
    parts.headers.insert(header::CONNECTION, HeaderValue::from_static("upgrade"));
    parts.headers.insert(header::UPGRADE, protocol.clone());
  }
  for name in
    [crate::proto::geo::GEO_HEADER, crate::proto::geo::SIGNATURE_HEADER, crate::proto::geo::CF_HEADER]
  {
    parts.headers.remove(name);
  }
  set_forwarding(&mut parts.headers, peer, &placed);
  let declared = parts.headers.get(header::CONTENT_LENGTH).and_then(|v| v.to_str().ok()?.parse::<u64>().ok());
  let small = hyper::body::Body::is_end_stream(&body) || declared.is_some_and(|n| n <= REPLAY_LIMIT);
  let idempotent = is_idempotent(&parts.method);
  let mut outgoing = if hyper::body::Body::is_end_stream(&body) {
    Outgoing::Kept(Bytes::new())
  } else if idempotent && small {
    match body.collect().await {
      Ok(collected) => Outgoing::Kept(collected.to_bytes()),
      Err(e) => return text(StatusCode::BAD_REQUEST, &format!("the request body broke off: {e}")),
    }
  } else {
    Outgoing::Streamed(Some(body))
  };

  let mut last_error = String::new();
  for (attempt, upstream) in candidates.iter().take(2).enumerate() {
    if attempt > 0 && !outgoing.replayable() {
      break;
    }
    let Some(body) = outgoing.take() else { break };
    let uri = match format!("{}{path}", upstream.base).parse::<http::Uri>() {
      Ok(uri) => uri,
      Err(e) => return text(StatusCode::BAD_REQUEST, &format!("cannot forward {path:?}: {e}")),
    };
    let mut forward = Request::new(body);
    *forward.method_mut() = parts.method.clone();
    *forward.uri_mut() = uri;
    *forward.headers_mut() = parts.headers.clone();
    if let Some(key) = &state.geo_key {
      let cf = crate::proto::geo::Cf { colo: Some(upstream.entry.region.clone()), ..placed.cf.clone() };
      let (payload, signature) = crate::proto::geo::sign(key, &cf, crate::proto::geo::now());
      forward.headers_mut().insert(crate::proto::geo::GEO_HEADER, payload);
      forward.headers_mut().insert(crate::proto::geo::SIGNATURE_HEADER, signature);
    }
    let busy = upstream.busy();
    // HTTP/2 has no Upgrade: an upgrade goes over HTTP/1.1 to any node.
    let client = if upstream.entry.http2 && upgrade.is_none() { &state.h2 } else { &state.h1 };
    match client.request(forward).await {
      Ok(mut response) if response.status() == StatusCode::SWITCHING_PROTOCOLS && upgrade.is_some() => {
        let (protocol, from_client) = upgrade.expect("checked");
        let from_node = hyper::upgrade::on(&mut response);
        let (mut head, _) = response.into_parts();
        strip_hop_by_hop(&mut head.headers);
        head.headers.insert(header::CONNECTION, HeaderValue::from_static("upgrade"));
        head.headers.insert(header::UPGRADE, protocol);
        tokio::spawn(join_upgraded(from_client, from_node, busy));
        let mut response =
          Response::from_parts(head, http_body_util::Empty::new().map_err(|e| match e {}).boxed());
        name_node(&mut response, upstream);
        return response;
      }
      Ok(response) => {
        let (mut head, body) = response.into_parts();
        strip_hop_by_hop(&mut head.headers);
        // The node counts as busy until the answer has streamed through.
        let body = body.map_frame(move |frame| {
          let _ = &busy;
          frame
        });
        let mut response = Response::from_parts(head, body.map_err(Into::into).boxed());
        name_node(&mut response, upstream);
        return response;
      }
      Err(e) => {
        // Unreachable: down at once. Broken mid-exchange (the node died with the request
        // in flight): a failure like a failed check. Either way an idempotent request that
        // was kept goes to the next node.
        let why = format!("{}: {e:?}", if e.is_connect() { "cannot connect" } else { "the exchange broke" });
        upstream.failed(&state.config.health, &why, e.is_connect());
        last_error = format!("node {}: {why}", upstream.entry.id);
        // A request that may have reached the node is sent again only if idempotent.
        if !e.is_connect() && !idempotent {
          break;
        }
      }
    }
  }
  text(StatusCode::BAD_GATEWAY, &format!("the edge node did not answer: {last_error}"))
}

/// The protocol an HTTP/1.1 request asks to upgrade to (`Upgrade`, with `Connection:
/// upgrade`), if any.
fn upgrade_asked(request: &Request<Incoming>) -> Option<HeaderValue> {
  let connection_upgrade = request
    .headers()
    .get_all(header::CONNECTION)
    .iter()
    .filter_map(|v| v.to_str().ok())
    .flat_map(|v| v.split(','))
    .any(|token| token.trim().eq_ignore_ascii_case("upgrade"));
  (request.version() == http::Version::HTTP_11 && connection_upgrade)
    .then(|| request.headers().get(header::UPGRADE).cloned())
    .flatten()
}

/// Joins the client's upgraded connection to the node's, both ways, until either ends; the
/// node counts as busy meanwhile.
async fn join_upgraded(
  from_client: hyper::upgrade::OnUpgrade,
  from_node: hyper::upgrade::OnUpgrade,
  busy: impl Send + 'static,
) {
  let (client, node) = match tokio::try_join!(from_client, from_node) {
    Ok(both) => both,
    Err(e) => {
      tracing::debug!("an upgrade through the router failed: {e}");
      return;
    }
  };
  let (mut client, mut node) = (hyper_util::rt::TokioIo::new(client), hyper_util::rt::TokioIo::new(node));
  let _ = tokio::io::copy_bidirectional(&mut client, &mut node).await;
  drop(busy);
}

fn name_node(response: &mut Response<Body>, upstream: &Upstream) {
  if let Ok(id) = HeaderValue::from_str(&upstream.entry.id) {
    response.headers_mut().insert(NODE_HEADER, id);
  }
}
