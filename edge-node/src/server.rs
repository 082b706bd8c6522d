//! The HTTP side of a node: hyper on tokio, one task per connection, graceful shutdown.
//!
//! [`serve`] accepts connections until `shutdown` resolves, then stops accepting and waits
//! (up to the drain timeout) for requests in flight to finish. [`Workers`] picks the worker
//! for a request: the only one, or the one named by the first label of the `Host` header.

use std::convert::Infallible;
use std::future::Future;
use std::net::SocketAddr;
use std::time::Duration;
use std::time::Instant;

use std::sync::Arc;

use bytes::Bytes;
use edge_runtime::RequestBody;
use edge_runtime::WorkerRequest;
use http::HeaderValue;
use http::Request;
use http::Response;
use http_body::Body as _;
use http_body_util::combinators::BoxBody;
use http_body_util::BodyExt;
use hyper::body::Incoming;
use hyper_util::rt::TokioIo;
use hyper_util::server::graceful::GracefulShutdown;
use tokio::net::TcpListener;

use crate::respond;
use crate::routing::Router;
use crate::slot::Instance;
use crate::slot::WorkerSlot;

/// A response body: a worker's own, a host process's, or one the node made.
pub type Body = BoxBody<Bytes, Box<dyn std::error::Error + Send + Sync>>;

fn boxed<B>(response: Response<B>) -> Response<Body>
where
  B: http_body::Body<Data = Bytes> + Send + Sync + 'static,
  B::Error: std::error::Error + Send + Sync + 'static,
{
  response.map(|body| body.map_err(|e| Box::new(e) as _).boxed())
}

/// The workers a server serves, how requests find them, and how many isolates they may keep
/// resident in all.
#[derive(Clone)]
pub struct Workers {
  router: Arc<Router>,
  max_resident: usize,
}

impl Workers {
  /// `max_resident` bounds the isolates of all workers together: to start one more, the
  /// least recently used worker is evicted (its isolates stopped).
  /// `domain`: see [`Router::new`].
  pub fn new(slots: Vec<WorkerSlot>, max_resident: usize, domain: Option<String>) -> Workers {
    let router = Router::new(slots.into_iter().map(Arc::new).collect(), domain);
    Workers { router: Arc::new(router), max_resident: max_resident.max(1) }
  }

  /// Makes room for `slot` to start an isolate, evicting least recently used workers.
  pub async fn make_room(&self, slot: &Arc<WorkerSlot>) {
    loop {
      let resident: usize = self.iter().map(|s| s.resident()).sum();
      if resident < self.max_resident {
        return;
      }
      let victim =
        self.iter().filter(|s| s.resident() > 0 && !Arc::ptr_eq(s, slot)).min_by_key(|s| s.last_used());
      let Some(victim) = victim else { return };
      tracing::debug!(worker = victim.name(), "evicted to make room");
      victim.evict().await;
    }
  }

  /// The worker for a request to `host` and `path` (see [`Router::route`]).
  pub fn route(&self, host: &str, path: &str) -> Option<&Arc<WorkerSlot>> {
    self.router.route(host, path)
  }

  pub fn iter(&self) -> impl Iterator<Item = &Arc<WorkerSlot>> {
    self.router.slots().iter()
  }
}

/// How long requests in flight may take to finish once shutdown begins.
pub const DRAIN_TIMEOUT: Duration = Duration::from_secs(10);

/// Serves `workers` on `listener` until `shutdown` resolves.
pub async fn serve(listener: TcpListener, workers: Workers, shutdown: impl Future<Output = ()>) {
  let graceful = GracefulShutdown::new();
  let mut shutdown = std::pin::pin!(shutdown);
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
      () = &mut shutdown => break,
    };
    let _ = stream.set_nodelay(true);
    let workers = workers.clone();
    let service = hyper::service::service_fn(move |request| handle(workers.clone(), peer, request));
    // HTTP/1.1, or HTTP/2 with prior knowledge (h2c), on the same port.
    let connection = hyper_util::server::conn::auto::Builder::new(hyper_util::rt::TokioExecutor::new())
      .serve_connection(TokioIo::new(stream), service)
      .into_owned();
    let connection = graceful.watch(connection);
    tokio::spawn(async move {
      if let Err(e) = connection.await {
        tracing::debug!(%peer, "connection ended: {e}");
      }
    });
  }
  drop(listener);
  tracing::info!("shutting down: waiting for requests in flight");
  tokio::select! {
    () = graceful.shutdown() => tracing::info!("all connections closed"),
    () = tokio::time::sleep(DRAIN_TIMEOUT) => tracing::warn!("drain timeout: closing remaining connections"),
  }
}

async fn handle(
  workers: Workers,
  peer: SocketAddr,
  request: Request<Incoming>,
) -> Result<Response<Body>, Infallible> {
  let started = Instant::now();
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
  let (name, mut response) = match workers.route(&host, &path) {
    Some(slot) => (slot.name().to_owned(), run(&workers, slot, &request_id, &host, &path, request).await),
    None => ("-".to_owned(), boxed(respond::unknown_host(&request_id, &host))),
  };
  if let Ok(id) = HeaderValue::from_str(&request_id) {
    response.headers_mut().insert(respond::REQUEST_ID_HEADER, id);
  }
  tracing::info!(
    worker = name,
    request_id,
    %peer,
    "{method} {path} {} {:.2}ms",
    response.status().as_u16(),
    started.elapsed().as_secs_f64() * 1000.0
  );
  Ok(response)
}

/// Runs one request through the worker of `slot`.
async fn run(
  workers: &Workers,
  slot: &Arc<WorkerSlot>,
  request_id: &str,
  host: &str,
  path: &str,
  request: Request<Incoming>,
) -> Response<Body> {
  let limit = slot.worker().options.limits.request_body_bytes();
  let declared = request
    .headers()
    .get(http::header::CONTENT_LENGTH)
    .and_then(|v| v.to_str().ok())
    .and_then(|v| v.parse::<u64>().ok());
  if declared.is_some_and(|length| length > limit) {
    return boxed(respond::body_too_large(request_id, limit));
  }
  if slot.resident() == 0 {
    workers.make_room(slot).await;
  }
  let instance = match slot.handle().await {
    Ok(instance) => instance,
    Err(error) => return boxed(respond::load_failure(slot.name(), request_id, &error)),
  };
  let url = format!("http://{host}{path}");
  let worker = match instance {
    Instance::Local(worker) => worker,
    Instance::Hosted(hosted) => {
      return match hosted.fetch(request, &url).await {
        Ok(response) if response.status() == http::StatusCode::PAYLOAD_TOO_LARGE => {
          boxed(respond::body_too_large(request_id, limit))
        }
        Ok(response) => boxed(response),
        Err(error) => boxed(respond::worker_failure(slot.name(), request_id, &error)),
      };
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
  let worker_request = WorkerRequest { method: parts.method, url, headers: parts.headers, body };
  let result = worker.fetch(worker_request).await;
  // A body without a declared length that streamed past the limit: the worker saw a body
  // error; the client is told what happened, whatever the worker made of it.
  if overrun.is_some_and(|o| o.exceeded()) {
    return boxed(respond::body_too_large(request_id, limit));
  }
  boxed(match result {
    Ok(response) => response,
    Err(error) => respond::worker_failure(slot.name(), request_id, &error),
  })
}
