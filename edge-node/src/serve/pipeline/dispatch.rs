//! Stage 4, dispatch: the request runs in an isolate of its deployment, picked from the
//! warm-worker cache (a resident one, or a boot that concurrent requests share), in this
//! process or in an isolate host. A request to a host no worker serves gets the node's own
//! health endpoints, or `404`.
//!
//! A body is checked against the worker's limit (declared, or as it streams); a request
//! without one is sent again if its isolate was retired between being picked and taking it. A
//! failure is answered by `respond` and told to `edge tail`, with the worker's secrets
//! redacted.

use std::sync::Arc;

use crate::proto::ClientBody as Incoming;
use edge_runtime::CpuTime;
use edge_runtime::LoadError;
use edge_runtime::RequestBody;
use edge_runtime::ResponseBody;
use edge_runtime::WorkerError;
use edge_runtime::WorkerRequest;
use http::Request;
use http::Response;
use http::StatusCode;
use http_body::Body as _;

use crate::catalog::Deployment;
use crate::isolates::cache::Picked;
use crate::isolates::slot::Instance;
use crate::observe::metrics::StartKind;
use crate::observe::redact::redact;
use crate::observe::tail::EventKind;
use crate::proto::boxed;
use crate::proto::Body;
use crate::serve::pipeline::Exchange;
use crate::serve::respond;
use crate::serve::websocket;
use crate::serve::websocket::Upgrade;
use crate::serve::Node;

/// The answer to `request`: its worker's, or the node's for a host no worker serves.
pub async fn dispatch(node: &Node, exchange: &mut Exchange, request: Request<Incoming>) -> Response<Body> {
  match exchange.deployment.clone() {
    Some(deployment) => run(node, &deployment, exchange, request).await,
    None => match crate::serve::admin::health(node, request.uri().path()) {
      Some(response) => response,
      None => boxed(respond::unknown_host(&exchange.request_id, &exchange.host)),
    },
  }
}

/// Runs one request through the worker of `deployment`.
async fn run(
  node: &Node,
  deployment: &Arc<Deployment>,
  exchange: &mut Exchange,
  mut request: Request<Incoming>,
) -> Response<Body> {
  let ran = &mut exchange.ran;
  ran.deployment = Some(deployment.clone());
  let request_id = exchange.request_id.as_str();
  let name = deployment.name();
  let limit = deployment.worker.options.limits.request_body_bytes();
  let declared = request
    .headers()
    .get(http::header::CONTENT_LENGTH)
    .and_then(|v| v.to_str().ok())
    .and_then(|v| v.parse::<u64>().ok());
  if declared.is_some_and(|length| length > limit) {
    linger(request.into_body());
    return boxed(respond::body_too_large(request_id, limit));
  }
  let url = format!("{}://{}{}", if exchange.tls { "https" } else { "http" }, exchange.host, exchange.path);
  let picked = match node.cache().pick(deployment).await {
    Ok(picked) => picked,
    Err(error) => return boxed(load_failed(node, deployment, request_id, &error)),
  };
  ran.start = Some(picked.start);
  if let (StartKind::Cold | StartKind::ScaleOut, Instance::Local(worker)) = (picked.start, &picked.instance) {
    ran.boot = Some(worker.start_report());
  }
  ran.memory = picked.instance.memory_bytes() as u64;
  let worker = match &picked.instance {
    Instance::Local(worker) => worker.clone(),
    Instance::Hosted(hosted) => {
      // A request without a body and of an idempotent method can be sent again if its host
      // dies under it.
      let again = (request.body().is_end_stream() && is_idempotent(request.method()))
        .then(|| (request.method().clone(), request.uri().clone(), request.headers().clone()));
      let mut result = hosted.fetch(request, &url, request_id).await;
      let mut lost = hosted.lost();
      if let (Err(WorkerError::Unavailable), Some(cause)) = (&result, &lost) {
        picked.slot.reap_retired().await;
        match again {
          Some((method, uri, headers)) => {
            tracing::warn!(
              worker = deployment.name(),
              request_id,
              "its isolate host died ({cause}): sent again"
            );
            let mut request = Request::new(http_body_util::Empty::<bytes::Bytes>::new());
            (*request.method_mut(), *request.uri_mut(), *request.headers_mut()) = (method, uri, headers);
            result = match node.cache().pick(deployment).await {
              Ok(Picked { instance: Instance::Hosted(hosted), .. }) => {
                let result = hosted.fetch(request, &url, request_id).await;
                lost = hosted.lost();
                result
              }
              Ok(_) => Err(WorkerError::Unavailable),
              Err(error) => return boxed(load_failed(node, deployment, request_id, &error)),
            };
          }
          None => return boxed(respond::host_lost(deployment.name(), request_id, cause)),
        }
      }
      return match result {
        Ok(response) if response.status() == StatusCode::PAYLOAD_TOO_LARGE => {
          boxed(respond::body_too_large(request_id, limit))
        }
        Ok(response) => {
          ran.cpu = response.extensions().get::<CpuTime>().map(|c| c.0);
          boxed(response)
        }
        Err(WorkerError::Unavailable) if lost.is_some() => {
          boxed(respond::host_lost(deployment.name(), request_id, lost.as_deref().unwrap_or_default()))
        }
        Err(error) => {
          if matches!(error, WorkerError::Terminated(_)) {
            picked.slot.reap_retired().await;
          }
          boxed(failed(node, deployment, request_id, &error))
        }
      };
    }
  };
  // A WebSocket upgrade: the worker answers `101` with one end of a WebSocketPair.
  let upgrade = Upgrade::take(&mut request);
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
    match node.cache().pick(deployment).await {
      Ok(Picked { instance: Instance::Local(worker), .. }) => {
        let request =
          WorkerRequest { method, url, headers, body: None, request_id: Some(request_id.to_owned()) };
        result = worker.fetch(request).await;
      }
      Ok(_) => {}
      Err(error) => return boxed(load_failed(node, deployment, request_id, &error)),
    }
  }
  // A body without a declared length that streamed past the limit: the worker saw a body
  // error; the client is told what happened, whatever the worker made of it.
  if overrun.is_some_and(|o| o.exceeded()) {
    return boxed(respond::body_too_large(request_id, limit));
  }
  let response = match result {
    Ok(mut response) => {
      ran.cpu = response.extensions().get::<CpuTime>().map(|c| c.0);
      ran.subrequests = response.extensions().get::<edge_runtime::Subrequests>().map_or(0, |s| s.0);
      ran.sockets = response.extensions().get::<edge_runtime::SocketTraffic>().copied().unwrap_or_default();
      if response.status() == StatusCode::SWITCHING_PROTOCOLS {
        if let Err(refused) = websocket::accept(node, deployment, &worker, request_id, upgrade, &mut response)
        {
          response = respond::websocket_refused(request_id, name, &refused);
        }
      }
      response
    }
    Err(error) => {
      if matches!(error, WorkerError::Terminated(_)) {
        picked.slot.reap_retired().await;
      }
      failed(node, deployment, request_id, &error)
    }
  };
  boxed(response)
}

/// The answer to a request the worker failed, told to `edge tail` too: its trace in terms of
/// the worker's sources when it was bundled.
/// Whether a request of `method` may be sent twice (RFC 9110, 9.2.2).
fn is_idempotent(method: &http::Method) -> bool {
  use http::Method;
  [Method::GET, Method::HEAD, Method::OPTIONS, Method::TRACE, Method::PUT, Method::DELETE].contains(method)
}

fn failed(
  node: &Node,
  deployment: &Deployment,
  request_id: &str,
  error: &WorkerError,
) -> Response<ResponseBody> {
  let name = deployment.name();
  // A worker's secret values never reach the log or a follower.
  let redacted;
  let error = match error {
    WorkerError::Exception { message, stack } => {
      redacted = WorkerError::Exception {
        message: redact(name, &deployment.worker.remap(message)).into_owned(),
        stack: redact(name, &deployment.worker.remap(stack)).into_owned(),
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
fn load_failed(
  node: &Node,
  deployment: &Deployment,
  request_id: &str,
  error: &LoadError,
) -> Response<ResponseBody> {
  let name = deployment.name();
  // The error names the worker's sources already (`isolates::slot`).
  let message = redact(name, &error.to_string()).into_owned();
  node.tail.publish(name, Some(request_id), || match error {
    LoadError::Terminated(reason) => EventKind::Limit { limit: reason.to_string() },
    _ => EventKind::Exception { message, stack: String::new() },
  });
  respond::load_failure(name, request_id, error)
}

/// Most of a refused request body read and dropped after its answer ([`linger`]).
const LINGER_BYTES: u64 = 16 << 20;
/// The longest a refused request body is read after its answer.
const LINGER_TIME: std::time::Duration = std::time::Duration::from_secs(5);

/// Reads and drops a request body the node answered without reading (a declared length over
/// the limit), up to [`LINGER_BYTES`] and [`LINGER_TIME`], as nginx's lingering close does:
/// a connection closed with the client's data unread is reset, and a client still sending
/// would see that reset instead of the answer.
fn linger(body: Incoming) {
  use http_body_util::BodyExt as _;
  tokio::spawn(async move {
    let mut body = body;
    let mut read = 0u64;
    let _ = tokio::time::timeout(LINGER_TIME, async {
      while let Some(Ok(frame)) = body.frame().await {
        read += frame.data_ref().map_or(0, |data| data.len() as u64);
        if read > LINGER_BYTES {
          break;
        }
      }
    })
    .await;
  });
}
