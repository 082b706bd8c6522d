//! The request path of worker traffic, as stages. Each is a file of its own, takes the
//! [`Node`] and the request's [`Exchange`] (what is known of it so far), and can be tested on
//! its own:
//!
//! 0. [`prestart`], before any request: the SNI name of a TLS handshake starts its worker.
//! 1. [`admission::clean`]: geo data only with the router's valid signature, no internal markers.
//! 2. [`route`]: the request id, the deployment by `Host` and path, the trace span.
//! 3. [`admission::admit`]: spike counting, the rate limit, the daily CPU budget; a refusal
//!    is the answer.
//! 4. [`dispatch`]: an isolate from the warm-worker cache runs the request (or the node's own
//!    health endpoints, or `404`, for hosts no worker serves).
//! 5. [`account`]: after the answer, each of [`account::STAGES`] in order: the timing
//!    headers, metrics, usage and the budget charge, the `edge tail` event, the span, the log
//!    line.
//!
//! A new concern is a new stage: a function in one of these files and its place in the list.

pub mod account;
pub mod admission;
pub mod dispatch;
pub mod prestart;
pub mod route;

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;
use std::time::Instant;

use crate::proto::ClientBody as Incoming;
use http::Method;
use http::Request;
use http::Response;

use crate::catalog::Deployment;
use crate::observe::metrics::StartKind;
use crate::observe::trace::RequestSpan;
use crate::proto::Body;
use crate::serve::listen::Connection;
use crate::serve::listen::Handler;
use crate::serve::Node;

/// One request as the stages learn about it.
pub struct Exchange {
  pub started: Instant,
  pub request_id: String,
  pub method: Method,
  /// The path and query.
  pub path: String,
  pub host: String,
  pub peer: SocketAddr,
  pub tls: bool,
  /// The deployment the request routes to, if any.
  pub deployment: Option<Arc<Deployment>>,
  /// The request's span (requests to a worker have one; health checks do not).
  pub span: Option<RequestSpan>,
  /// What running it in a worker took.
  pub ran: Ran,
}

impl Exchange {
  /// The name of the worker, or `-` for a host no worker serves.
  pub fn worker(&self) -> &str {
    self.deployment.as_ref().map_or("-", |d| d.name())
  }
}

/// What the request log and the metrics need to know about a request a worker ran.
#[derive(Default)]
pub struct Ran {
  /// The deployment that answered (its version string is made only for a log line written).
  pub deployment: Option<Arc<Deployment>>,
  pub start: Option<StartKind>,
  /// What starting an isolate took, when this request started one in this process.
  pub boot: Option<edge_runtime::StartReport>,
  pub cpu: Option<Duration>,
  /// The outbound fetches it started before its response head.
  pub subrequests: u32,
  /// What the isolate's TCP sockets carried since its previous response.
  pub sockets: edge_runtime::SocketTraffic,
  /// The measured memory of the isolate that ran it.
  pub memory: u64,
  /// The wall time of the whole request, set once it is answered.
  pub total: Duration,
}

/// Runs one request of worker traffic through the stages.
pub async fn handle(node: &Node, mut request: Request<Incoming>, connection: Connection) -> Response<Body> {
  let started = Instant::now();
  admission::clean(node, request.headers_mut());
  let mut exchange = route::route(node, &mut request, connection, started);
  let response = match admission::admit(node, &exchange).await {
    Some(refused) => refused,
    None => dispatch::dispatch(node, &mut exchange, request).await,
  };
  exchange.ran.total = started.elapsed();
  account::account(node, &mut exchange, response)
}

impl Handler for Node {
  async fn handle(&self, request: Request<Incoming>, connection: Connection) -> Response<Body> {
    handle(self, request, connection).await
  }

  fn server_name(&self, name: &str) {
    prestart::prestart(self, name);
  }
}
