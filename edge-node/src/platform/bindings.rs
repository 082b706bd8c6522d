//! A worker's platform bindings as the node answers them: each call from the isolate
//! (`op_edge_binding`: binding name, method, JSON arguments, bytes) becomes a call of the
//! node's KV store for the namespace the binding names in `edge.toml`, a send to a queue (a
//! queue producer, `queues/`), or (a service
//! binding) a request to another worker on this node, in its own isolate under its own
//! limits, without a network hop.
//!
//! A chain of service calls is carried in the `x-edge-service-chain` request header; a call
//! to a worker already in the chain, or deeper than [`MAX_SERVICE_DEPTH`], fails with the
//! chain in its message. (A worker that builds a fresh request without the incoming headers
//! loses the chain; its subrequest limit still stops a cycle, each call being a subrequest.)

use std::collections::BTreeMap;
use std::sync::Arc;
use std::sync::Weak;

use bytes::Bytes;
use edge_runtime::BindingHostFn;
use edge_runtime::WorkerError;
use edge_runtime::WorkerRequest;
use http_body_util::BodyExt;
use serde::Deserialize;

use crate::isolates::slot::Instance;
use crate::isolates::workers::Workers;
use crate::manifest::LoadedWorker;
use crate::observe::trace::Tracing;
use crate::platform::kv;
use crate::platform::kv::KvError;
use crate::platform::kv::KvStore;

/// The binding name the Cache API's calls use (not a name a worker can declare).
pub const CACHE_BINDING: &str = "__cache";

/// The header that names the workers a service call came through.
pub const SERVICE_CHAIN_HEADER: &str = "x-edge-service-chain";
/// The deepest chain of service calls.
pub const MAX_SERVICE_DEPTH: usize = 16;
/// The largest answer a service call returns, in bytes.
pub const MAX_SERVICE_BODY: usize = 32 * 1024 * 1024;

/// What the node offers workers' bindings.
#[derive(Debug)]
pub struct NodeBindings {
  pub kv: Arc<KvStore>,
  /// The queues producers send to and consumers read.
  pub queues: Arc<crate::platform::queues::QueueStore>,
  /// The Cache API's responses.
  pub responses: Arc<crate::platform::cache_api::ResponseCache>,
  /// The workers service bindings call: the node's own, which hold these bindings (hence
  /// weak; `Arc::new_cyclic` makes both at once).
  workers: Weak<Workers>,
  /// Where service calls' spans go.
  tracing: Tracing,
}

impl NodeBindings {
  /// Bindings backed by `kv` and `queues`, with a Cache API of at most `cache_api_bytes`,
  /// whose service bindings call `workers`, with spans to `tracing`.
  pub fn new(
    kv: Arc<KvStore>,
    queues: Arc<crate::platform::queues::QueueStore>,
    cache_api_bytes: u64,
    tracing: Tracing,
    workers: Weak<Workers>,
  ) -> NodeBindings {
    NodeBindings {
      kv,
      queues,
      responses: Arc::new(crate::platform::cache_api::ResponseCache::new(cache_api_bytes)),
      workers,
      tracing,
    }
  }

  /// The function that answers `worker`'s binding calls (its declared bindings, and the
  /// Cache API every worker has).
  pub fn host_for(&self, worker: &LoadedWorker) -> Option<BindingHostFn> {
    let namespaces: Arc<BTreeMap<String, String>> = Arc::new(worker.kv.clone());
    let services: Arc<BTreeMap<String, String>> = Arc::new(worker.services.clone());
    let producers: Arc<BTreeMap<String, String>> = Arc::new(worker.queue_producers.clone());
    let queues = self.queues.clone();
    let caller: Arc<str> = worker.bundle.name.clone().into();
    let store = self.kv.clone();
    let responses = self.responses.clone();
    // Upgraded at call time: the workers hold these bindings.
    let node = self.workers.clone();
    let tracing = self.tracing.clone();
    Some(Arc::new(move |binding: &str, method: &str, args: String, bytes: Bytes| {
      let namespace = namespaces.get(binding).cloned();
      let service = services.get(binding).cloned();
      let producer = producers.get(binding).cloned();
      let queues = queues.clone();
      let (store, method, binding) = (store.clone(), method.to_owned(), binding.to_owned());
      let (node, caller, responses) = (node.clone(), caller.clone(), responses.clone());
      let tracing = tracing.clone();
      Box::pin(async move {
        if binding == CACHE_BINDING {
          return responses.call(&caller, &method, &args, bytes).await;
        }
        if let Some(queue) = producer {
          return queue_send(&queues, &queue, &method, &args).await;
        }
        match (namespace, service) {
          (Some(namespace), _) => {
            kv_call(&store, &namespace, &method, &args, bytes).await.map_err(|e| e.to_string())
          }
          (None, Some(service)) if method == "fetch" => {
            service_call(&node, &tracing, &caller, &service, &args, bytes).await
          }
          _ => Err(format!("the binding {binding} has no method {method}")),
        }
      })
    }))
  }
}

impl crate::isolates::BindingHosts for NodeBindings {
  fn host_for(&self, worker: &LoadedWorker) -> Option<BindingHostFn> {
    NodeBindings::host_for(self, worker)
  }
}

/// `env.<QUEUE>.send()` and `sendBatch()`: stored durably before the call returns.
async fn queue_send(
  queues: &crate::platform::queues::QueueStore,
  queue: &str,
  method: &str,
  args: &str,
) -> Result<(String, Option<Bytes>), String> {
  #[derive(Deserialize)]
  struct Send {
    messages: Vec<crate::platform::queues::Outgoing>,
  }
  if method != "send" {
    return Err(format!("a queue binding has no method {method}"));
  }
  let send: Send = serde_json::from_str(args).map_err(|e| format!("queue send: {e}"))?;
  let ids = queues.send(queue, send.messages).await.map_err(|e| format!("queue {queue}: {e}"))?;
  Ok((serde_json::json!({ "ids": ids }).to_string(), None))
}

#[derive(Deserialize)]
struct Head {
  method: String,
  url: String,
  headers: Vec<(String, String)>,
  #[serde(rename = "hasBody")]
  has_body: bool,
}

/// `env.<SERVICE>.fetch(request)`: the request goes to worker `service` on this node.
async fn service_call(
  node: &Weak<Workers>,
  tracing: &Tracing,
  caller: &str,
  service: &str,
  args: &str,
  bytes: Bytes,
) -> Result<(String, Option<Bytes>), String> {
  let head: Head = serde_json::from_str(args).map_err(|e| format!("a service call: {e}"))?;
  let mut headers = http::HeaderMap::new();
  for (name, value) in &head.headers {
    if let (Ok(name), Ok(value)) =
      (http::HeaderName::from_bytes(name.as_bytes()), http::HeaderValue::from_str(value))
    {
      headers.append(name, value);
    }
  }
  // The node's own markers, and geo data only the router may sign, never come from a worker.
  crate::platform::drop_markers(&mut headers);
  headers.remove(crate::proto::geo::CF_HEADER);
  let mut chain: Vec<String> = headers
    .get(SERVICE_CHAIN_HEADER)
    .and_then(|v| v.to_str().ok())
    .unwrap_or("")
    .split(',')
    .map(str::trim)
    .filter(|w| !w.is_empty())
    .map(str::to_owned)
    .collect();
  chain.push(caller.to_owned());
  if chain.iter().any(|w| w == service) || chain.len() >= MAX_SERVICE_DEPTH {
    return Err(format!("service binding cycle stopped: {} → {service}", chain.join(" → ")));
  }
  headers
    .insert(SERVICE_CHAIN_HEADER, http::HeaderValue::from_str(&chain.join(",")).map_err(|e| e.to_string())?);
  let node = node.upgrade().ok_or("the node is stopping")?;
  // The call's span: the child of the calling request's, the parent of the called worker's.
  let span = tracing.start(&headers, || format!("service {service}"), opentelemetry::trace::SpanKind::Server);
  span.propagate(&mut headers);
  let answered = call_worker(&node, service, &head, headers, bytes).await;
  let status = answered.as_ref().map_or(0, |(status, _, _)| *status);
  span.finish(
    || {
      vec![
        crate::observe::trace::Attribute::new("edge.worker", service.to_owned()),
        crate::observe::trace::Attribute::new("edge.caller", caller.to_owned()),
        crate::observe::trace::Attribute::new("http.request.method", head.method.clone()),
        crate::observe::trace::Attribute::new("http.response.status_code", i64::from(status)),
      ]
    },
    !(100..500).contains(&status),
  );
  let (status, headers, body) = answered?;
  Ok((serde_json::json!({ "status": status, "headers": headers }).to_string(), Some(body)))
}

/// Runs the service call's request in worker `service`: its status, headers and body.
async fn call_worker(
  node: &Workers,
  service: &str,
  head: &Head,
  headers: http::HeaderMap,
  bytes: Bytes,
) -> Result<(u16, Vec<(String, String)>, Bytes), String> {
  let deployment =
    node.router().get(service).cloned().ok_or_else(|| format!("no worker named {service:?} on this node"))?;
  let picked = node
    .cache()
    .pick(&deployment)
    .await
    .map_err(|e| format!("the service {service:?} does not start: {e}"))?;
  let Instance::Local(worker) = &picked.instance else {
    return Err("service bindings are not available in isolate host processes yet".into());
  };
  let body = head.has_body.then(|| {
    let (sender, body) = edge_runtime::RequestBody::channel();
    tokio::spawn(async move {
      let _ = sender.send(Ok(bytes)).await;
    });
    body
  });
  let method = http::Method::from_bytes(head.method.as_bytes()).map_err(|e| e.to_string())?;
  let request = WorkerRequest { method, url: head.url.clone(), headers, body, request_id: None };
  let response = match worker.fetch(request).await {
    Ok(response) => response,
    Err(error) => {
      if matches!(error, WorkerError::Terminated(_)) {
        picked.slot.reap_retired().await;
      }
      return Err(format!("the service {service:?} failed: {error}"));
    }
  };
  let status = response.status().as_u16();
  let headers: Vec<(String, String)> = response
    .headers()
    .iter()
    .filter_map(|(name, value)| Some((name.to_string(), value.to_str().ok()?.to_owned())))
    .collect();
  let body = http_body_util::Limited::new(response.into_body(), MAX_SERVICE_BODY)
    .collect()
    .await
    .map_err(|e| format!("the service {service:?} answered with a body that failed: {e}"))?
    .to_bytes();
  Ok((status, headers, body))
}

#[derive(Deserialize, Default)]
#[serde(default)]
struct Args {
  key: Option<String>,
  expiration: Option<f64>,
  #[serde(rename = "expirationTtl")]
  expiration_ttl: Option<f64>,
  metadata: Option<serde_json::Value>,
  prefix: Option<String>,
  limit: Option<f64>,
  cursor: Option<String>,
}

fn seconds(what: &str, value: Option<f64>) -> Result<Option<u64>, KvError> {
  match value {
    None => Ok(None),
    Some(v) if v.is_finite() && v >= 0.0 => Ok(Some(v as u64)),
    Some(v) => Err(KvError::Invalid(format!("{what} {v} is not a number of seconds"))),
  }
}

async fn kv_call(
  store: &Arc<KvStore>,
  namespace: &str,
  method: &str,
  args: &str,
  bytes: Bytes,
) -> Result<(String, Option<Bytes>), KvError> {
  let args: Args = serde_json::from_str(args).map_err(|e| KvError::Invalid(format!("arguments: {e}")))?;
  let key = || args.key.as_deref().ok_or_else(|| KvError::Invalid("a key is required".into()));
  let now = crate::proto::geo::now();
  match method {
    "get" => Ok(match store.get(namespace, key()?, now).await? {
      Some(entry) => {
        (serde_json::json!({ "found": true, "metadata": entry.metadata }).to_string(), Some(entry.value))
      }
      None => (r#"{"found":false}"#.to_owned(), None),
    }),
    "put" => {
      let entry = kv::entry(
        bytes,
        seconds("expiration", args.expiration)?,
        seconds("expirationTtl", args.expiration_ttl)?,
        args.metadata.clone(),
        now,
      )?;
      store.put(namespace, key()?, entry).await?;
      Ok(("{}".to_owned(), None))
    }
    "delete" => {
      store.delete(namespace, key()?).await?;
      Ok(("{}".to_owned(), None))
    }
    "list" => {
      let limit = seconds("limit", args.limit)?.unwrap_or(kv::MAX_LIST as u64) as usize;
      let listing = store
        .list(namespace, args.prefix.as_deref().unwrap_or(""), limit, args.cursor.as_deref(), now)
        .await?;
      Ok((serde_json::to_string(&listing).expect("plain data serialises"), None))
    }
    other => Err(KvError::Invalid(format!("has no method {other}"))),
  }
}
