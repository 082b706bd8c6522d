//! The deploy API, on the admin listener under `/v1/`, for a node with a data directory.
//!
//! Every call needs `Authorization: Bearer <admin token>` (compared in constant time).
//!
//! | call | does |
//! |---|---|
//! | `GET /v1/workers` | the deployed workers, each with its active version |
//! | `PUT /v1/workers/{name}` | uploads a bundle (`multipart/form-data`, one part per file, its file name the path in the bundle, `edge.toml` required), validates it in an isolate, stores it as a new version and activates it |
//! | `GET /v1/workers/{name}/versions` | every stored version, and the active one |
//! | `POST /v1/workers/{name}/activate` | activates `{"version": "<id>"}`, or with `{}` the version before the active one (a rollback) |
//! | `DELETE /v1/workers/{name}` | stops serving the worker and deletes its versions |
//!
//! A bundle is stored only once it has started in an isolate (its module evaluated, its
//! handler found); one that does not start is refused with the error, and the active version
//! keeps serving. Deploys are serialised, one at a time.

use std::collections::BTreeMap;
use std::path::Path;
use std::sync::Arc;

use bytes::Bytes;
use edge_runtime::Limits;
use http::Method;
use http::Request;
use http::Response;
use http::StatusCode;
use http_body_util::BodyExt;
use http_body_util::Full;
use serde::Deserialize;
use serde::Serialize;
use sha2::Digest as _;

use crate::catalog::Deployment;
use crate::manifest;
use crate::routing::Router;
use crate::server::Body;
use crate::server::Node;
use crate::store::Store;
use crate::store::StoreError;
use crate::store::VersionId;

/// The largest upload accepted, in bytes (the bundle limit plus room for multipart framing).
pub const MAX_UPLOAD_BYTES: u64 = manifest::MAX_BUNDLE_BYTES + 1024 * 1024;

/// The deploy API of one node.
pub struct DeployApi {
  store: Store,
  token_hash: [u8; 32],
  limits: Limits,
  domain: String,
  /// `host:port` of the worker listener, for the URLs the API answers with.
  worker_port: u16,
  lock: tokio::sync::Mutex<()>,
}

/// A worker as the API lists it.
#[derive(Debug, Serialize, Deserialize)]
pub struct WorkerInfo {
  pub name: String,
  pub active: Option<String>,
  pub versions: Vec<String>,
  pub url: String,
}

impl DeployApi {
  pub fn new(store: Store, token: &str, limits: Limits, domain: String, worker_port: u16) -> DeployApi {
    DeployApi {
      store,
      token_hash: sha2::Sha256::digest(token.as_bytes()).into(),
      limits,
      domain,
      worker_port,
      lock: tokio::sync::Mutex::new(()),
    }
  }

  /// The deployments the data directory holds as active (read at start).
  pub fn stored_deployments(&self) -> anyhow::Result<Vec<Arc<Deployment>>> {
    let mut deployments = Vec::new();
    for name in self.store.workers()? {
      let Some(version) = self.store.active(&name)? else { continue };
      deployments.push(Arc::new(self.deployment(&name, &version)?));
    }
    Ok(deployments)
  }

  fn deployment(&self, name: &str, version: &VersionId) -> anyhow::Result<Deployment> {
    let dir = self.store.version_dir(name, version)?;
    let worker = manifest::load_worker(&dir, &self.limits).map_err(|e| anyhow::anyhow!("{e}"))?;
    Ok(Deployment { worker, sequence: version.sequence, hash: version.hash.clone(), from_store: true })
  }

  fn url(&self, name: &str) -> String {
    format!("http://{name}.{}:{}/", self.domain, self.worker_port)
  }

  fn authorized<B>(&self, request: &Request<B>) -> bool {
    let given = request
      .headers()
      .get(http::header::AUTHORIZATION)
      .and_then(|v| v.to_str().ok())
      .and_then(|v| v.strip_prefix("Bearer "))
      .unwrap_or("");
    let given: [u8; 32] = sha2::Sha256::digest(given.as_bytes()).into();
    // Equal-length digests, compared without an early exit.
    given.iter().zip(self.token_hash.iter()).fold(0u8, |acc, (a, b)| acc | (a ^ b)) == 0
  }

  /// Answers one call under `/v1/`.
  pub async fn handle(&self, node: &Node, request: Request<hyper::body::Incoming>) -> Response<Body> {
    if !self.authorized(&request) {
      return error(StatusCode::UNAUTHORIZED, "a valid `Authorization: Bearer <token>` header is required");
    }
    let path = request.uri().path().to_owned();
    let parts: Vec<&str> = path.trim_start_matches("/v1/").split('/').collect();
    let method = request.method().clone();
    let result = match (method, parts.as_slice()) {
      (Method::GET, ["workers"]) => self.list(),
      (Method::PUT, ["workers", name]) => self.upload(node, name, request).await,
      (Method::GET, ["workers", name, "versions"]) => self.versions(name),
      (Method::POST, ["workers", name, "activate"]) => self.activate(node, name, request).await,
      (Method::DELETE, ["workers", name]) => self.delete(node, name).await,
      _ => Err(ApiError(StatusCode::NOT_FOUND, format!("no such call: {} {path}", request_method(&parts)))),
    };
    result.unwrap_or_else(|ApiError(status, message)| error(status, &message))
  }

  fn list(&self) -> Result<Response<Body>, ApiError> {
    let mut workers = Vec::new();
    for name in self.store.workers().map_err(ApiError::store)? {
      workers.push(self.info(&name)?);
    }
    Ok(json(StatusCode::OK, &serde_json::json!({ "workers": workers })))
  }

  fn info(&self, name: &str) -> Result<WorkerInfo, ApiError> {
    let versions = self.store.versions(name).map_err(ApiError::store)?;
    if versions.is_empty() {
      return Err(ApiError(StatusCode::NOT_FOUND, format!("no worker named {name:?}")));
    }
    Ok(WorkerInfo {
      name: name.to_owned(),
      active: self.store.active(name).map_err(ApiError::store)?.map(|v| v.to_string()),
      versions: versions.iter().map(ToString::to_string).collect(),
      url: self.url(name),
    })
  }

  fn versions(&self, name: &str) -> Result<Response<Body>, ApiError> {
    Ok(json(StatusCode::OK, &self.info(name)?))
  }

  async fn upload(
    &self,
    node: &Node,
    name: &str,
    request: Request<hyper::body::Incoming>,
  ) -> Result<Response<Body>, ApiError> {
    manifest::validate_name(name)
      .map_err(|m| ApiError(StatusCode::BAD_REQUEST, format!("invalid worker name: {m}")))?;
    let files = read_multipart(request).await?;
    let worker = manifest::load_bundle(Path::new(name), name, &files, &self.limits)
      .map_err(|e| ApiError(StatusCode::BAD_REQUEST, e.to_string()))?;
    if worker.bundle.name != name {
      return Err(ApiError(
        StatusCode::BAD_REQUEST,
        format!("edge.toml names the worker {:?}, but it is uploaded as {name:?}", worker.bundle.name),
      ));
    }
    let _one_at_a_time = self.lock.lock().await;
    let sequence = self.store.versions(name).map_err(ApiError::store)?.last().map_or(1, |v| v.sequence + 1);
    let id = VersionId { sequence, hash: crate::store::content_hash(&files) };
    let deployment =
      Arc::new(Deployment { worker, sequence: id.sequence, hash: id.hash.clone(), from_store: true });
    start(node, &deployment).await?;
    let stored = self.store.put_version(name, &files).map_err(ApiError::store)?;
    debug_assert_eq!(stored, id);
    self.store.activate(name, &stored).map_err(ApiError::store)?;
    swap_in(node, deployment).await;
    tracing::info!(worker = name, version = %stored, "deployed");
    Ok(json(
      StatusCode::CREATED,
      &serde_json::json!({ "name": name, "version": stored.to_string(), "url": self.url(name) }),
    ))
  }

  async fn activate(
    &self,
    node: &Node,
    name: &str,
    request: Request<hyper::body::Incoming>,
  ) -> Result<Response<Body>, ApiError> {
    #[derive(Deserialize)]
    #[serde(deny_unknown_fields)]
    struct Activate {
      version: Option<String>,
    }
    let body = http_body_util::Limited::new(request.into_body(), 4096)
      .collect()
      .await
      .map_err(|e| ApiError(StatusCode::BAD_REQUEST, format!("cannot read the body: {e}")))?
      .to_bytes();
    let wanted: Activate = if body.is_empty() {
      Activate { version: None }
    } else {
      serde_json::from_slice(&body)
        .map_err(|e| ApiError(StatusCode::BAD_REQUEST, format!("expected {{\"version\": \"<id>\"}}: {e}")))?
    };
    let _one_at_a_time = self.lock.lock().await;
    let versions = self.store.versions(name).map_err(ApiError::store)?;
    if versions.is_empty() {
      return Err(ApiError(StatusCode::NOT_FOUND, format!("no worker named {name:?}")));
    }
    let active = self.store.active(name).map_err(ApiError::store)?;
    let target = match wanted.version {
      Some(text) => {
        let id: VersionId = text
          .parse()
          .map_err(|()| ApiError(StatusCode::BAD_REQUEST, format!("{text:?} is not a version id")))?;
        if !versions.contains(&id) {
          return Err(ApiError(StatusCode::NOT_FOUND, format!("worker {name:?} has no version {text}")));
        }
        id
      }
      None => {
        let before = active.as_ref().and_then(|a| versions.iter().rev().find(|v| *v < a));
        before.cloned().ok_or_else(|| {
          ApiError(StatusCode::CONFLICT, "there is no earlier version to roll back to".into())
        })?
      }
    };
    let deployment = Arc::new(
      self
        .deployment(name, &target)
        .map_err(|e| ApiError(StatusCode::INTERNAL_SERVER_ERROR, format!("{e:#}")))?,
    );
    start(node, &deployment).await?;
    self.store.activate(name, &target).map_err(ApiError::store)?;
    swap_in(node, deployment).await;
    tracing::info!(worker = name, version = %target, "activated");
    Ok(json(StatusCode::OK, &serde_json::json!({ "name": name, "version": target.to_string() })))
  }

  async fn delete(&self, node: &Node, name: &str) -> Result<Response<Body>, ApiError> {
    let _one_at_a_time = self.lock.lock().await;
    self.store.delete(name).map_err(ApiError::store)?;
    let router = node.router();
    let old = router.get(name).filter(|d| d.from_store).cloned();
    if let Some(old) = old {
      let rest = router.deployments().iter().filter(|d| !Arc::ptr_eq(d, &old)).cloned().collect();
      node.set_router(Router::new(rest, router.domain()));
      node.cache().invalidate(&old.key()).await;
    }
    tracing::info!(worker = name, "deleted");
    Ok(json(StatusCode::OK, &serde_json::json!({ "name": name, "deleted": true })))
  }
}

fn request_method(parts: &[&str]) -> String {
  parts.join("/")
}

/// Boots `deployment` through the warm-worker cache: the validation a bundle must pass.
async fn start(node: &Node, deployment: &Arc<Deployment>) -> Result<(), ApiError> {
  node.cache().pick(deployment).await.map(|_| ()).map_err(|e| {
    ApiError(
      StatusCode::UNPROCESSABLE_ENTITY,
      format!("the worker does not start, nothing was deployed: {e}"),
    )
  })
}

/// Routes the worker's requests to `deployment` from now on; the version it replaces leaves
/// the cache after its requests in flight.
async fn swap_in(node: &Node, deployment: Arc<Deployment>) {
  let router = node.router();
  let old = router.get(deployment.name()).cloned();
  let mut deployments: Vec<Arc<Deployment>> =
    router.deployments().iter().filter(|d| d.name() != deployment.name()).cloned().collect();
  deployments.push(deployment.clone());
  node.set_router(Router::new(deployments, router.domain()));
  if let Some(old) = old.filter(|old| old.key() != deployment.key()) {
    node.cache().invalidate(&old.key()).await;
  }
}

/// The files of a `multipart/form-data` upload: each part's file name is its path.
async fn read_multipart(
  request: Request<hyper::body::Incoming>,
) -> Result<BTreeMap<String, Vec<u8>>, ApiError> {
  let content_type =
    request.headers().get(http::header::CONTENT_TYPE).and_then(|v| v.to_str().ok()).unwrap_or("");
  let boundary = multer::parse_boundary(content_type).map_err(|_| {
    ApiError(
      StatusCode::UNSUPPORTED_MEDIA_TYPE,
      "upload the bundle as multipart/form-data, one part per file".into(),
    )
  })?;
  let declared = request
    .headers()
    .get(http::header::CONTENT_LENGTH)
    .and_then(|v| v.to_str().ok())
    .and_then(|v| v.parse::<u64>().ok());
  if declared.is_some_and(|length| length > MAX_UPLOAD_BYTES) {
    return Err(too_large());
  }
  let body = http_body_util::Limited::new(request.into_body(), MAX_UPLOAD_BYTES as usize);
  let body = body.collect().await.map_err(|e| {
    if e.downcast_ref::<http_body_util::LengthLimitError>().is_some() {
      too_large()
    } else {
      ApiError(StatusCode::BAD_REQUEST, format!("cannot read the upload: {e}"))
    }
  })?;
  let stream = futures::stream::once(async move { Ok::<Bytes, std::convert::Infallible>(body.to_bytes()) });
  let mut multipart = multer::Multipart::new(stream, boundary);
  let mut files = BTreeMap::new();
  let malformed =
    |e: multer::Error| ApiError(StatusCode::BAD_REQUEST, format!("malformed multipart upload: {e}"));
  while let Some(field) = multipart.next_field().await.map_err(malformed)? {
    let path = field.file_name().map(str::to_owned).ok_or_else(|| {
      ApiError(StatusCode::BAD_REQUEST, "every part needs a file name: its path in the bundle".into())
    })?;
    crate::store::check_file_path(&path).map_err(|e| ApiError(StatusCode::BAD_REQUEST, e.to_string()))?;
    let bytes = field.bytes().await.map_err(malformed)?;
    if files.insert(path.clone(), bytes.to_vec()).is_some() {
      return Err(ApiError(StatusCode::BAD_REQUEST, format!("the file {path:?} appears twice")));
    }
    if files.len() > manifest::MAX_BUNDLE_FILES {
      return Err(too_large());
    }
  }
  if files.is_empty() {
    return Err(ApiError(StatusCode::BAD_REQUEST, "the upload holds no files".into()));
  }
  Ok(files)
}

fn too_large() -> ApiError {
  ApiError(
    StatusCode::PAYLOAD_TOO_LARGE,
    format!(
      "the bundle is too large (at most {} files and {} MiB)",
      manifest::MAX_BUNDLE_FILES,
      manifest::MAX_BUNDLE_BYTES >> 20
    ),
  )
}

/// A refused call: its status and a message for the caller.
#[derive(Debug)]
struct ApiError(StatusCode, String);

impl ApiError {
  fn store(error: StoreError) -> ApiError {
    let status = match &error {
      StoreError::Name(..) | StoreError::FilePath(..) => StatusCode::BAD_REQUEST,
      StoreError::NoWorker(_) | StoreError::NoVersion(..) => StatusCode::NOT_FOUND,
      StoreError::Io { .. } => {
        tracing::error!("data directory: {error}");
        StatusCode::INTERNAL_SERVER_ERROR
      }
    };
    ApiError(status, error.to_string())
  }
}

fn json(status: StatusCode, value: &impl Serialize) -> Response<Body> {
  let text = serde_json::to_string_pretty(value).unwrap_or_default() + "\n";
  let mut response = Response::new(Full::new(Bytes::from(text)).map_err(|e| match e {}).boxed());
  *response.status_mut() = status;
  response
    .headers_mut()
    .insert(http::header::CONTENT_TYPE, http::HeaderValue::from_static("application/json"));
  response
}

fn error(status: StatusCode, message: &str) -> Response<Body> {
  json(status, &serde_json::json!({ "error": message }))
}
