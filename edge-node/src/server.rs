//! The HTTP side of a node: hyper on tokio, one task per connection, graceful shutdown.
//!
//! A node has up to three listeners: worker traffic over plain TCP (HTTP/1.1 and h2c with
//! prior knowledge), worker traffic over TLS (ALPN `h2` or `http/1.1`), and the admin
//! listener (`/metrics`, `/healthz`, `/readyz`). [`serve`] accepts on all of them until
//! `shutdown` resolves, then stops accepting and waits, up to the drain timeout, for the
//! requests in flight to finish. [`Node`] is the state they share: the routing table (swapped
//! whole on a reload), the warm-worker cache and the metrics.

use std::convert::Infallible;
use std::future::Future;
use std::net::SocketAddr;
use std::sync::atomic::AtomicBool;
use std::sync::atomic::Ordering;
use std::sync::Arc;
use std::sync::RwLock;
use std::time::Duration;
use std::time::Instant;

use bytes::Bytes;
use edge_runtime::CpuTime;
use edge_runtime::LoadError;
use edge_runtime::RequestBody;
use edge_runtime::ResponseBody;
use edge_runtime::WorkerError;
use edge_runtime::WorkerRequest;
use http::HeaderValue;
use http::Request;
use http::Response;
use http::StatusCode;
use http_body::Body as _;
use http_body_util::combinators::BoxBody;
use http_body_util::BodyExt;
use hyper::body::Incoming;
use hyper_util::rt::TokioIo;
use hyper_util::server::graceful::GracefulShutdown;
use hyper_util::server::graceful::Watcher;
use opentelemetry::trace::SpanKind;
use tokio::io::AsyncRead;
use tokio::io::AsyncWrite;
use tokio::net::TcpListener;
use tokio_rustls::TlsAcceptor;

use crate::cache::Picked;
use crate::cache::WarmCache;
use crate::catalog::Deployment;
use crate::metrics::Metrics;
use crate::metrics::StartKind;
use crate::respond;
use crate::routing::Router;
use crate::slot::Instance;
use crate::tail::EventKind;
use crate::tail::Tail;
use crate::trace::Attribute;

/// A response body: a worker's own, a host process's, or one the node made.
pub type Body = BoxBody<Bytes, Box<dyn std::error::Error + Send + Sync>>;

fn boxed<B>(response: Response<B>) -> Response<Body>
where
  B: http_body::Body<Data = Bytes> + Send + Sync + 'static,
  B::Error: std::error::Error + Send + Sync + 'static,
{
  response.map(|body| body.map_err(|e| Box::new(e) as _).boxed())
}

/// How long requests in flight may take to finish once a worker is retired.
pub const DRAIN_TIMEOUT: Duration = Duration::from_secs(10);

/// The state every listener of a node shares.
pub struct Node {
  router: RwLock<Arc<Router>>,
  cache: WarmCache,
  metrics: Arc<Metrics>,
  ready: AtomicBool,
  deploy: std::sync::OnceLock<Arc<crate::deploy::DeployApi>>,
  /// The key the router signs geo data with (`geo.rs`); without it no geo data is accepted.
  geo_key: std::sync::OnceLock<Vec<u8>>,
  /// Live events for `edge tail`.
  pub tail: Tail,
  /// The dashboard of the admin listener, when the node has an admin token.
  dashboard: std::sync::OnceLock<crate::dashboard::Dashboard>,
  /// The workers' request-rate limits.
  rates: crate::rate::RateLimits,
  /// Usage metering, when the node keeps it.
  pub meter: std::sync::OnceLock<Arc<crate::usage::Meter>>,
  /// Budget and spike alerts, when the node raises them.
  pub alerts: std::sync::OnceLock<Arc<crate::alerts::Alerts>>,
  /// The workers' daily CPU budgets, when the node keeps usage.
  pub budgets: std::sync::OnceLock<Arc<crate::budget::Budgets>>,
  /// Where request spans go (ids only, until set).
  tracing: std::sync::OnceLock<crate::trace::Tracing>,
}

impl Node {
  pub fn new(router: Router, cache: WarmCache, metrics: Arc<Metrics>, tail: Tail) -> Arc<Node> {
    Arc::new(Node {
      tail,
      router: RwLock::new(Arc::new(router)),
      cache,
      metrics,
      ready: AtomicBool::new(false),
      deploy: std::sync::OnceLock::new(),
      geo_key: std::sync::OnceLock::new(),
      dashboard: std::sync::OnceLock::new(),
      rates: crate::rate::RateLimits::default(),
      meter: std::sync::OnceLock::new(),
      alerts: std::sync::OnceLock::new(),
      budgets: std::sync::OnceLock::new(),
      tracing: std::sync::OnceLock::new(),
    })
  }

  /// Where request spans go.
  pub fn tracing(&self) -> &crate::trace::Tracing {
    self.tracing.get_or_init(crate::trace::Tracing::default)
  }

  /// Sends request spans to `tracing` from now on (once, at start).
  pub fn set_tracing(&self, tracing: crate::trace::Tracing) {
    let _ = self.tracing.set(tracing);
  }

  /// The routing table now.
  pub fn router(&self) -> Arc<Router> {
    self.router.read().unwrap().clone()
  }

  /// Swaps the routing table: new requests route by `router`, running ones are unaffected.
  pub fn set_router(&self, router: Router) {
    *self.router.write().unwrap() = Arc::new(router);
  }

  /// Routes the worker's requests to `deployment` from now on; the version it replaces leaves
  /// the cache after its requests in flight.
  pub async fn swap_in(&self, deployment: Arc<Deployment>) {
    let router = self.router();
    let old = router.get(deployment.name()).cloned();
    let mut deployments: Vec<Arc<Deployment>> =
      router.deployments().iter().filter(|d| d.name() != deployment.name()).cloned().collect();
    deployments.push(deployment.clone());
    self.set_router(Router::new(deployments, router.domain()));
    if let Some(old) = old.filter(|old| old.key() != deployment.key()) {
      self.cache.invalidate(&old.key()).await;
    }
  }

  /// Stops routing to worker `name`; its version leaves the cache after its requests.
  pub async fn remove(&self, name: &str) {
    let router = self.router();
    if let Some(old) = router.get(name).cloned() {
      let rest = router.deployments().iter().filter(|d| !Arc::ptr_eq(d, &old)).cloned().collect();
      self.set_router(Router::new(rest, router.domain()));
      self.cache.invalidate(&old.key()).await;
    }
  }

  pub fn cache(&self) -> &WarmCache {
    &self.cache
  }

  pub fn metrics(&self) -> &Arc<Metrics> {
    &self.metrics
  }

  /// Turns on the deploy API of the admin listener.
  pub fn set_deploy(&self, api: Arc<crate::deploy::DeployApi>) {
    let _ = self.deploy.set(api);
  }

  /// The deploy API, when the node has a data directory.
  pub fn deploy(&self) -> Option<&Arc<crate::deploy::DeployApi>> {
    self.deploy.get()
  }

  /// Turns on the dashboard of the admin listener.
  pub fn set_dashboard(&self, dashboard: crate::dashboard::Dashboard) {
    let _ = self.dashboard.set(dashboard);
  }

  /// The dashboard, when the node has an admin token.
  pub fn dashboard(&self) -> Option<&crate::dashboard::Dashboard> {
    self.dashboard.get()
  }

  /// Accepts geo data signed with `key` from now on (`request.cf`).
  pub fn set_geo_key(&self, key: &str) {
    let _ = self.geo_key.set(key.as_bytes().to_vec());
  }

  /// Whether `/readyz` says the node takes traffic.
  pub fn set_ready(&self, ready: bool) {
    self.ready.store(ready, Ordering::Relaxed);
  }

  pub fn is_ready(&self) -> bool {
    self.ready.load(Ordering::Relaxed)
  }
}

/// The listeners of a node.
pub struct Listeners {
  /// Worker traffic over plain TCP: HTTP/1.1 and h2c.
  pub http: TcpListener,
  /// Worker traffic over TLS.
  pub tls: Option<(TcpListener, TlsAcceptor)>,
  /// `/metrics`, `/healthz`, `/readyz`.
  pub admin: Option<TcpListener>,
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum Role {
  Workers { tls: bool },
  Admin,
}

/// Serves `listeners` until `shutdown` resolves, then drains for up to `drain`.
pub async fn serve(
  node: Arc<Node>,
  listeners: Listeners,
  drain: Duration,
  shutdown: impl Future<Output = ()>,
) {
  let graceful = GracefulShutdown::new();
  let (stop_tx, stop) = tokio::sync::watch::channel(false);
  let Listeners { http, tls, admin } = listeners;
  let http = accept_loop(http, None, Role::Workers { tls: false }, &node, &graceful, stop.clone());
  let tls = async {
    if let Some((listener, acceptor)) = tls {
      accept_loop(listener, Some(acceptor), Role::Workers { tls: true }, &node, &graceful, stop.clone())
        .await;
    }
  };
  let admin = async {
    if let Some(listener) = admin {
      accept_loop(listener, None, Role::Admin, &node, &graceful, stop.clone()).await;
    }
  };
  let signal = async {
    shutdown.await;
    node.set_ready(false);
    let _ = stop_tx.send(true);
  };
  tokio::join!(http, tls, admin, signal);
  tracing::info!("shutting down: waiting for requests in flight");
  tokio::select! {
    () = graceful.shutdown() => tracing::info!("all connections closed"),
    () = tokio::time::sleep(drain) => tracing::warn!("drain timeout: closing remaining connections"),
  }
}

async fn accept_loop(
  listener: TcpListener,
  tls: Option<TlsAcceptor>,
  role: Role,
  node: &Arc<Node>,
  graceful: &GracefulShutdown,
  mut stop: tokio::sync::watch::Receiver<bool>,
) {
  loop {
    let (stream, peer) = tokio::select! {
      accepted = listener.accept() => match accepted {
        Ok(accepted) => accepted,
        Err(e) => {
          // Out of file descriptors and the like: report, back off briefly, keep serving.
          tracing::warn!("accept failed: {e}");
          tokio::time::sleep(Duration::from_millis(50)).await;
          continue;
        }
      },
      _ = stop.wait_for(|stop| *stop) => break,
    };
    let _ = stream.set_nodelay(true);
    let node = node.clone();
    let watcher = graceful.watcher();
    match tls.clone() {
      None => {
        tokio::spawn(serve_connection(stream, peer, role, node, watcher));
      }
      Some(acceptor) => {
        tokio::spawn(async move {
          // A client that never finishes its handshake does not hold a task forever.
          match tokio::time::timeout(Duration::from_secs(10), acceptor.accept(stream)).await {
            Ok(Ok(stream)) => serve_connection(stream, peer, role, node, watcher).await,
            Ok(Err(e)) => tracing::debug!(%peer, "TLS handshake failed: {e}"),
            Err(_) => tracing::debug!(%peer, "TLS handshake timed out"),
          }
        });
      }
    }
  }
}

async fn serve_connection<S>(stream: S, peer: SocketAddr, role: Role, node: Arc<Node>, watcher: Watcher)
where
  S: AsyncRead + AsyncWrite + Unpin + Send + 'static,
{
  let service = hyper::service::service_fn(move |request| {
    let node = node.clone();
    async move {
      Ok::<_, Infallible>(match role {
        Role::Workers { tls } => handle(node, peer, tls, request).await,
        Role::Admin => crate::admin::handle(&node, request).await,
      })
    }
  });
  // HTTP/1.1, or HTTP/2 (prior knowledge on plain TCP, ALPN over TLS), on the same port.
  let connection = hyper_util::server::conn::auto::Builder::new(hyper_util::rt::TokioExecutor::new())
    .serve_connection(TokioIo::new(stream), service)
    .into_owned();
  if let Err(e) = watcher.watch(connection).await {
    tracing::debug!(%peer, "connection ended: {e}");
  }
}

/// Removes the headers by which the node marks its own requests to an isolate (a scheduled
/// run, a queue batch): only the node's scheduler and queue consumers send them, never a
/// client or a worker.
pub fn drop_markers(headers: &mut http::HeaderMap) {
  headers.remove(crate::crons::SCHEDULED_HEADER);
  headers.remove(crate::queues::consumer::QUEUE_HEADER);
}

/// What the request log and the metrics need to know about a request a worker ran.
#[derive(Default)]
struct Ran {
  /// The deployment that answered (its version string is made only for a log line written).
  deployment: Option<Arc<Deployment>>,
  start: Option<StartKind>,
  cpu: Option<Duration>,
  /// The outbound fetches it started before its response head.
  subrequests: u32,
  /// The measured memory of the isolate that ran it.
  memory: u64,
}

async fn handle(
  node: Arc<Node>,
  peer: SocketAddr,
  tls: bool,
  mut request: Request<Incoming>,
) -> Response<Body> {
  let started = Instant::now();
  // Geo data reaches the worker only with the router's valid signature.
  crate::geo::accept(node.geo_key.get().map(Vec::as_slice), request.headers_mut());
  drop_markers(request.headers_mut());
  let request_id = respond::request_id();
  let method = request.method().clone();
  let path = request.uri().path_and_query().map(|p| p.as_str().to_owned()).unwrap_or_else(|| "/".into());
  let host = request
    .headers()
    .get(http::header::HOST)
    .and_then(|h| h.to_str().ok())
    .or_else(|| request.uri().authority().map(|a| a.as_str()))
    .unwrap_or("localhost")
    .to_owned();
  let router = node.router();
  let deployment = router.route(&host, &path).cloned();
  drop(router);
  // A request to a worker has a span: the child of the client's (or the router's) trace
  // context, and the parent of the worker's subrequests. Health checks have none.
  let span = deployment.as_ref().map(|_| {
    let span = node.tracing().start(request.headers(), || method.to_string(), SpanKind::Server);
    span.propagate(request.headers_mut());
    span
  });
  let (worker, mut response, ran) = match deployment {
    Some(deployment) => {
      if let Some(alerts) = node.alerts.get() {
        alerts.request(deployment.name());
      }
      let mut limited = deployment.worker.rate_limit.as_ref().and_then(|limit| {
        let wait = node.rates.check(deployment.name(), limit).err()?;
        Some(boxed(respond::rate_limited(&request_id, deployment.name(), limit, wait)))
      });
      if let (None, Some(budget), Some(budgets)) = (&limited, &deployment.worker.budget, node.budgets.get()) {
        if let Err(stop) = budgets.admit(deployment.name(), budget).await {
          limited = Some(boxed(respond::budget_exhausted(&request_id, deployment.name(), &stop)));
        }
      }
      let (response, ran) = match limited {
        Some(response) => (response, Ran::default()),
        None => run(&node, &deployment, &request_id, tls, &host, &path, request).await,
      };
      (deployment.name().to_owned(), response, ran)
    }
    None => {
      // Hosts no worker serves: the node's own health endpoints, or 404.
      let response = match crate::admin::health(&node, request.uri().path()) {
        Some(response) => response,
        None => boxed(respond::unknown_host(&request_id, &host)),
      };
      ("-".to_owned(), response, Ran::default())
    }
  };
  let total = started.elapsed();
  let headers = response.headers_mut();
  if let Ok(id) = HeaderValue::from_str(&request_id) {
    headers.insert(respond::REQUEST_ID_HEADER, id);
  }
  if let Some(timing) = server_timing(&ran, total) {
    headers.insert("server-timing", timing);
  }
  let status = response.status().as_u16();
  node.metrics.request(&worker, status, total, ran.cpu, ran.start);
  if let (Some(deployment), Some(meter)) = (&ran.deployment, node.meter.get()) {
    let sample = crate::usage::Sample {
      cpu: ran.cpu.unwrap_or_default(),
      wall: total,
      memory_bytes: ran.memory,
      subrequests: u64::from(ran.subrequests),
      error: status >= 500,
    };
    meter.record(deployment, sample);
    if let (Some(budget), Some(budgets), Some(cpu)) = (&deployment.worker.budget, node.budgets.get(), ran.cpu)
    {
      budgets.charge(deployment.name(), budget, cpu);
    }
    response = response.map(|body| meter.count_body(body, deployment));
  }
  if let Some(deployment) = &ran.deployment {
    node.tail.publish(&worker, Some(&request_id), || EventKind::Request {
      method: method.to_string(),
      path: path.clone(),
      status,
      version: deployment.version(),
      start: ran.start.map_or("-", StartKind::as_str).to_owned(),
      cpu_ms: ran.cpu.map_or(0.0, millis),
      wall_ms: millis(total),
    });
  }
  if let Some(span) = span {
    span.finish(
      || {
        vec![
          Attribute::new("http.request.method", method.to_string()),
          Attribute::new("url.path", path.clone()),
          Attribute::new("server.address", host.clone()),
          Attribute::new("http.response.status_code", i64::from(status)),
          Attribute::new("edge.worker", worker.clone()),
          Attribute::new(
            "edge.version",
            ran.deployment.as_ref().map_or_else(|| "-".to_owned(), |d| d.version()),
          ),
          Attribute::new("edge.request_id", request_id.clone()),
          Attribute::new("edge.start", ran.start.map_or("-", StartKind::as_str)),
          Attribute::new("edge.cpu_ms", ran.cpu.map_or(0.0, millis)),
        ]
      },
      status >= 500,
    );
  }
  tracing::info!(
    target: "edge::request",
    request_id,
    worker,
    version = ran.deployment.as_ref().map_or_else(|| "-".to_owned(), |d| d.version()),
    method = %method,
    path,
    status,
    start = ran.start.map_or("-", StartKind::as_str),
    cpu_ms = ran.cpu.map_or(0.0, millis),
    wall_ms = millis(total),
    %peer,
    "{method} {path} {status}"
  );
  response
}

/// A duration in milliseconds, to the microsecond.
fn millis(duration: Duration) -> f64 {
  (duration.as_secs_f64() * 1_000_000.0).round() / 1000.0
}

/// `Server-Timing: start;desc="cold", cpu;dur=0.31, total;dur=0.74` (milliseconds).
fn server_timing(ran: &Ran, total: Duration) -> Option<HeaderValue> {
  let start = ran.start?;
  let mut value = format!("start;desc=\"{}\"", start.as_str());
  if let Some(cpu) = ran.cpu {
    value.push_str(&format!(", cpu;dur={:.3}", cpu.as_secs_f64() * 1000.0));
  }
  value.push_str(&format!(", total;dur={:.3}", total.as_secs_f64() * 1000.0));
  HeaderValue::from_str(&value).ok()
}

/// Runs one request through the worker of `deployment`.
async fn run(
  node: &Node,
  deployment: &Arc<Deployment>,
  request_id: &str,
  tls: bool,
  host: &str,
  path: &str,
  request: Request<Incoming>,
) -> (Response<Body>, Ran) {
  let mut ran = Ran { deployment: Some(deployment.clone()), ..Ran::default() };
  let name = deployment.name();
  let limit = deployment.worker.options.limits.request_body_bytes();
  let declared = request
    .headers()
    .get(http::header::CONTENT_LENGTH)
    .and_then(|v| v.to_str().ok())
    .and_then(|v| v.parse::<u64>().ok());
  if declared.is_some_and(|length| length > limit) {
    return (boxed(respond::body_too_large(request_id, limit)), ran);
  }
  let url = format!("{}://{host}{path}", if tls { "https" } else { "http" });
  let picked = match node.cache.pick(deployment).await {
    Ok(picked) => picked,
    Err(error) => return (boxed(load_failed(node, name, request_id, &error)), ran),
  };
  ran.start = Some(picked.start);
  ran.memory = picked.instance.memory_bytes() as u64;
  let worker = match &picked.instance {
    Instance::Local(worker) => worker.clone(),
    Instance::Hosted(hosted) => {
      let result = hosted.fetch(request, &url, request_id).await;
      let response = match result {
        Ok(response) if response.status() == StatusCode::PAYLOAD_TOO_LARGE => {
          boxed(respond::body_too_large(request_id, limit))
        }
        Ok(response) => {
          ran.cpu = response.extensions().get::<CpuTime>().map(|c| c.0);
          boxed(response)
        }
        Err(error) => {
          if matches!(error, WorkerError::Terminated(_)) {
            picked.slot.reap_retired().await;
          }
          boxed(failed(node, name, request_id, &error))
        }
      };
      return (response, ran);
    }
  };
  let (parts, body) = request.into_parts();
  let (body, overrun) = match body.is_end_stream() {
    true => (None, None),
    false => {
      let (body, overrun) = RequestBody::from_http_body(body, limit);
      (Some(body), Some(overrun))
    }
  };
  // A request without a body can be sent again if its isolate was retired (evicted,
  // redeployed) between being picked and taking it.
  let retry = body.is_none().then(|| (parts.method.clone(), parts.headers.clone()));
  let request = WorkerRequest {
    method: parts.method,
    url: url.clone(),
    headers: parts.headers,
    body,
    request_id: Some(request_id.to_owned()),
  };
  let mut result = worker.fetch(request).await;
  if let (Err(WorkerError::Unavailable), Some((method, headers))) = (&result, retry) {
    tracing::debug!(worker = name, request_id, "isolate retired before the request reached it: retrying");
    match node.cache.pick(deployment).await {
      Ok(Picked { instance: Instance::Local(worker), .. }) => {
        let request =
          WorkerRequest { method, url, headers, body: None, request_id: Some(request_id.to_owned()) };
        result = worker.fetch(request).await;
      }
      Ok(_) => {}
      Err(error) => return (boxed(load_failed(node, name, request_id, &error)), ran),
    }
  }
  // A body without a declared length that streamed past the limit: the worker saw a body
  // error; the client is told what happened, whatever the worker made of it.
  if overrun.is_some_and(|o| o.exceeded()) {
    return (boxed(respond::body_too_large(request_id, limit)), ran);
  }
  let response = match result {
    Ok(response) => {
      ran.cpu = response.extensions().get::<CpuTime>().map(|c| c.0);
      ran.subrequests = response.extensions().get::<edge_runtime::Subrequests>().map_or(0, |s| s.0);
      response
    }
    Err(error) => {
      if matches!(error, WorkerError::Terminated(_)) {
        picked.slot.reap_retired().await;
      }
      failed(node, name, request_id, &error)
    }
  };
  (boxed(response), ran)
}

/// The answer to a request the worker failed, told to `edge tail` too.
fn failed(node: &Node, name: &str, request_id: &str, error: &WorkerError) -> Response<ResponseBody> {
  // A worker's secret values never reach the log or a follower.
  let redacted;
  let error = match error {
    WorkerError::Exception { message, stack } => {
      redacted = WorkerError::Exception {
        message: crate::secrets::redact(name, message).into_owned(),
        stack: crate::secrets::redact(name, stack).into_owned(),
      };
      &redacted
    }
    other => other,
  };
  match error {
    WorkerError::Exception { message, stack } => node.tail.publish(name, Some(request_id), || {
      EventKind::Exception { message: message.clone(), stack: stack.clone() }
    }),
    WorkerError::Terminated(reason) => {
      node.tail.publish(name, Some(request_id), || EventKind::Limit { limit: reason.to_string() })
    }
    _ => {}
  }
  respond::worker_failure(name, request_id, error)
}

/// The answer to a request whose worker could not start, told to `edge tail` too.
fn load_failed(node: &Node, name: &str, request_id: &str, error: &LoadError) -> Response<ResponseBody> {
  let message = crate::secrets::redact(name, &error.to_string()).into_owned();
  node.tail.publish(name, Some(request_id), || match error {
    LoadError::Terminated(reason) => EventKind::Limit { limit: reason.to_string() },
    _ => EventKind::Exception { message, stack: String::new() },
  });
  respond::load_failure(name, request_id, error)
}
