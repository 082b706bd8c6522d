//! `edge isolate-host`: a child process that runs isolates for a node.
//!
//! On the quickjs engine every dropped isolate leaks memory for the life of its process, so
//! a node that churns through many workers runs their isolates in host processes that it
//! retires and replaces (see [`crate::isolates::fleet`]). A host serves the node over HTTP on a Unix
//! socket (HTTP/2, one connection multiplexed, or HTTP/1.1):
//!
//! - `PUT /workers/{id}` starts a worker ([`HostedWorker`] as JSON); `DELETE` stops it.
//! - `/workers/{id}/fetch` runs one request (any method; the original URL in `x-edge-url`),
//!   streaming both bodies; a failure comes back as JSON, marked by `x-edge-host-failure`.
//! - `GET /stats` returns its figures ([`HostStats`]: the runtime's counters, its pool's, and
//!   its memory ledger's).
//! - `PUT /ceiling` moves its memory ceiling ([`CeilingShare`]): the node shares its own
//!   ceiling out among its hosts (see [`crate::isolates::fleet`]).

use std::collections::HashMap;
use std::convert::Infallible;
use std::path::Path;
use std::sync::Arc;
use std::sync::Mutex;

use anyhow::Context as _;
use bytes::Bytes;
use edge_runtime::IsolatePool;
use edge_runtime::RequestBody;
use edge_runtime::WorkerHandle;
use edge_runtime::WorkerRequest;
use http::Request;
use http::Response;
use http::StatusCode;
use http_body::Body as _;
use http_body_util::combinators::BoxBody;
use http_body_util::BodyExt;
use http_body_util::Full;
use hyper::body::Incoming;
use hyper_util::rt::TokioIo;
use tokio::net::UnixListener;

use crate::proto::wire::CeilingShare;
use crate::proto::wire::Failure;
use crate::proto::wire::HostStats;
use crate::proto::wire::HostedWorker;
use crate::proto::wire::Started;
use crate::proto::wire::CPU_HEADER;
use crate::proto::wire::FAILURE_HEADER;
use crate::proto::wire::REQUEST_ID_HEADER;
use crate::proto::wire::URL_HEADER;
use edge_runtime::CpuTime;

type Body = BoxBody<Bytes, Box<dyn std::error::Error + Send + Sync>>;

struct Host {
  pool: IsolatePool,
  workers: Mutex<HashMap<String, WorkerHandle>>,
}

/// Serves isolates on `socket` until the node closes it (the node kills the process).
pub async fn run(
  socket: &Path,
  warm_isolates: usize,
  memory_mb: u64,
  ceiling_bytes: Option<u64>,
) -> anyhow::Result<()> {
  let _ = std::fs::remove_file(socket);
  let listener =
    UnixListener::bind(socket).with_context(|| format!("cannot listen on {}", socket.display()))?;
  let ceiling =
    ceiling_bytes.map(|bytes| edge_runtime::MemoryCeiling::new(usize::try_from(bytes).unwrap_or(usize::MAX)));
  let pool = IsolatePool::under_ceiling(edge_runtime::PoolSize::fixed(warm_isolates), memory_mb, ceiling);
  pool.fill();
  let host = Arc::new(Host { pool, workers: Mutex::default() });
  // The node holds our stdin open and never writes to it: end of input means the node is
  // gone (however it died), and a host without its node exits instead of lingering.
  tokio::spawn(async {
    let mut stdin = tokio::io::stdin();
    let mut buf = [0u8; 64];
    while let Ok(n) = tokio::io::AsyncReadExt::read(&mut stdin, &mut buf).await {
      if n == 0 {
        break;
      }
    }
    std::process::exit(0);
  });
  // The node waits for this line before it sends anything.
  println!("ready");
  loop {
    let (stream, _) = listener.accept().await?;
    let host = host.clone();
    tokio::spawn(async move {
      let service = hyper::service::service_fn(move |request| handle(host.clone(), request));
      // HTTP/2 (the node keeps one connection to each host and multiplexes requests on it),
      // or HTTP/1.1.
      let mut http = hyper_util::server::conn::auto::Builder::new(hyper_util::rt::TokioExecutor::new());
      http.http2().adaptive_window(true).max_concurrent_streams(None);
      let _ = http.serve_connection(TokioIo::new(stream), service).await;
    });
  }
}

async fn handle(host: Arc<Host>, request: Request<Incoming>) -> Result<Response<Body>, Infallible> {
  let path = request.uri().path().to_owned();
  let parts: Vec<&str> = path.trim_start_matches('/').split('/').collect();
  let response = match (request.method().clone(), parts.as_slice()) {
    (http::Method::PUT, ["workers", id]) => start(&host, id, request).await,
    (http::Method::DELETE, ["workers", id]) => stop(&host, id).await,
    (_, ["workers", id, "fetch"]) => fetch(&host, id, request).await,
    (http::Method::GET, ["stats"]) => json(StatusCode::OK, &host.stats()),
    (http::Method::PUT, ["ceiling"]) => share(&host, request).await,
    _ => plain(StatusCode::NOT_FOUND, "no such host endpoint"),
  };
  Ok(response)
}

async fn start(host: &Host, id: &str, request: Request<Incoming>) -> Response<Body> {
  let body = match request.into_body().collect().await {
    Ok(body) => body.to_bytes(),
    Err(e) => return plain(StatusCode::BAD_REQUEST, &format!("cannot read the worker: {e}")),
  };
  let parts = serde_json::from_slice::<HostedWorker>(&body)
    .map_err(|e| e.to_string())
    .and_then(HostedWorker::into_parts);
  let (bundle, options) = match parts {
    Ok(parts) => parts,
    Err(e) => return plain(StatusCode::BAD_REQUEST, &format!("invalid worker: {e}")),
  };
  match host.pool.start(bundle, options, edge_runtime::log_console()).await {
    Ok(handle) => {
      let started = Started { memory_bytes: handle.memory_bytes() };
      host.workers.lock().unwrap().insert(id.to_owned(), handle);
      json(StatusCode::OK, &started)
    }
    Err(error) => failure(&Failure::from(&error)),
  }
}

impl Host {
  fn stats(&self) -> HostStats {
    HostStats {
      runtime: edge_runtime::stats(),
      pool: self.pool.stats(),
      ceiling: self.pool.ceiling().map(|ceiling| ceiling.stats()).unwrap_or_default(),
    }
  }
}

/// The node moves this host's share of its memory ceiling.
async fn share(host: &Host, request: Request<Incoming>) -> Response<Body> {
  let body = match request.into_body().collect().await {
    Ok(body) => body.to_bytes(),
    Err(e) => return plain(StatusCode::BAD_REQUEST, &format!("cannot read the share: {e}")),
  };
  let Some(ceiling) = host.pool.ceiling() else {
    return plain(StatusCode::CONFLICT, "this host runs without a memory ceiling");
  };
  match serde_json::from_slice::<CeilingShare>(&body) {
    Ok(share) => {
      ceiling.set_limit(usize::try_from(share.limit_bytes).unwrap_or(usize::MAX));
      plain(StatusCode::NO_CONTENT, "")
    }
    Err(e) => plain(StatusCode::BAD_REQUEST, &format!("invalid share: {e}")),
  }
}

async fn stop(host: &Host, id: &str) -> Response<Body> {
  let handle = host.workers.lock().unwrap().remove(id);
  if let Some(handle) = handle {
    handle.shutdown(crate::isolates::DRAIN_TIMEOUT).await;
  }
  plain(StatusCode::NO_CONTENT, "")
}

async fn fetch(host: &Host, id: &str, request: Request<Incoming>) -> Response<Body> {
  let handle = host.workers.lock().unwrap().get(id).cloned();
  let Some(handle) = handle else {
    return failure(&Failure::Unavailable);
  };
  let (mut parts, body) = request.into_parts();
  let url =
    parts.headers.remove(URL_HEADER).and_then(|v| v.to_str().ok().map(str::to_owned)).unwrap_or_default();
  let request_id = parts.headers.remove(REQUEST_ID_HEADER).and_then(|v| v.to_str().ok().map(str::to_owned));
  let limit = handle.limits().request_body_bytes();
  let (body, overrun) = match body.is_end_stream() {
    true => (None, None),
    false => {
      let (body, overrun) = RequestBody::from_http_body(body, limit);
      (Some(body), Some(overrun))
    }
  };
  let request = WorkerRequest { method: parts.method, url, headers: parts.headers, body, request_id };
  let result = handle.fetch(request).await;
  if overrun.is_some_and(|o| o.exceeded()) {
    return plain(StatusCode::PAYLOAD_TOO_LARGE, "");
  }
  match result {
    Ok(response) if response.status() == StatusCode::SWITCHING_PROTOCOLS => failure(&Failure::NotAResponse {
      returned:
        "a WebSocket (101): isolate host processes (--recycle-hosts-after) do not carry WebSockets yet".into(),
    }),
    Ok(mut response) => {
      let cpu = response.extensions().get::<CpuTime>().copied().unwrap_or_default();
      response.headers_mut().insert(CPU_HEADER, http::HeaderValue::from(cpu.0.as_micros() as u64));
      response.map(|body| body.map_err(|e| Box::new(e) as _).boxed())
    }
    Err(error) => failure(&Failure::from(&error)),
  }
}

/// A failure: its JSON in the body, marked by a header (stacks do not fit in headers).
fn failure(failure: &Failure) -> Response<Body> {
  let mut response = json(StatusCode::INTERNAL_SERVER_ERROR, failure);
  response.headers_mut().insert(FAILURE_HEADER, http::HeaderValue::from_static("1"));
  response
}

fn json(status: StatusCode, value: &impl serde::Serialize) -> Response<Body> {
  plain(status, &serde_json::to_string(value).unwrap_or_default())
}

fn plain(status: StatusCode, text: &str) -> Response<Body> {
  let mut response = Response::new(Full::new(Bytes::from(text.to_owned())).map_err(|e| match e {}).boxed());
  *response.status_mut() = status;
  response
}
