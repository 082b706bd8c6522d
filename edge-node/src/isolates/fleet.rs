//! Isolate host processes, retired and replaced so that an engine's per-isolate leak stays
//! bounded.
//!
//! The node starts workers in the current host until it has created `recycle_after`
//! isolates; then the host *retires*: it gets no new workers, keeps serving the ones it has,
//! and is stopped (giving all its memory back) once the last of them is stopped or evicted.
//! The next start spawns a fresh host. Requests reach a host's isolates over HTTP on a Unix
//! socket (see [`crate::isolates::host`]).
//!
//! Each host is supervised: a task of the node owns its process and waits for its exit. A host
//! that dies unasked (an engine crash, a kill) is reaped at once, leaves the fleet, and its
//! workers are marked as not running; [`Fleet::deaths`] tells the warm-worker cache, which
//! starts them again on a new host, and a request that was in flight on it learns why
//! ([`Hosted::lost`]), so that the request path can repeat it once or answer `503` naming the
//! cause.

use std::path::PathBuf;
use std::sync::atomic::AtomicBool;
use std::sync::atomic::AtomicU64;
use std::sync::atomic::AtomicUsize;
use std::sync::atomic::Ordering;
use std::sync::Arc;
use std::sync::Mutex;
use std::time::Duration;

use anyhow::Context as _;
use bytes::Bytes;
use edge_runtime::LoadError;
use edge_runtime::Termination;
use edge_runtime::WorkerError;
use http::Request;
use http::Response;
use http_body_util::BodyExt;
use http_body_util::Full;
use hyper::body::Incoming;
use hyper_util::rt::TokioIo;
use tokio::io::AsyncBufReadExt;
use tokio::net::UnixStream;

use crate::manifest::LoadedWorker;
use crate::proto::wire::Failure;
use crate::proto::wire::HostedWorker;
use crate::proto::wire::Started;
use crate::proto::wire::CPU_HEADER;
use crate::proto::wire::FAILURE_HEADER;
use crate::proto::wire::REQUEST_ID_HEADER;
use crate::proto::wire::URL_HEADER;
use edge_runtime::CpuTime;
use edge_runtime::RuntimeStats;

/// How long a new host may take to say it is ready.
const HOST_START_TIMEOUT: Duration = Duration::from_secs(30);

/// The node's isolate hosts.
pub struct Fleet {
  exe: PathBuf,
  dir: tempfile::TempDir,
  recycle_after: u64,
  warm_isolates: usize,
  memory_mb: u64,
  /// The memory ceiling each host keeps its isolates under, in MiB.
  node_memory_mb: u64,
  hosts: tokio::sync::Mutex<Vec<Arc<Host>>>,
  next_id: AtomicU64,
  retired: AtomicU64,
  /// The counters of retired hosts.
  retired_stats: Mutex<RuntimeStats>,
  /// Hosts that died unasked, counted; the cache watches it.
  deaths: tokio::sync::watch::Sender<u64>,
}

struct Host {
  socket: PathBuf,
  pid: Option<u32>,
  /// Asks the task that owns the process to stop it (a retired host).
  stop: Mutex<Option<tokio::sync::oneshot::Sender<()>>>,
  created: AtomicU64,
  resident: AtomicU64,
  retiring: AtomicBool,
  /// How the process ended, when it died unasked.
  died: tokio::sync::watch::Sender<Option<String>>,
  /// The workers started on it.
  workers: Mutex<Vec<std::sync::Weak<Hosted>>>,
  /// The HTTP/2 connection requests to it share, once made.
  connection: tokio::sync::Mutex<Option<hyper::client::conn::http2::SendRequest<HostBody>>>,
}

/// A request body on its way to a host.
type HostBody = http_body_util::combinators::UnsyncBoxBody<Bytes, Box<dyn std::error::Error + Send + Sync>>;

/// A worker running in a host process.
pub struct Hosted {
  host: Arc<Host>,
  id: String,
  running: AtomicBool,
  terminated: Mutex<Option<Termination>>,
  in_flight: Arc<AtomicUsize>,
  memory_bytes: AtomicUsize,
}

impl Fleet {
  /// Hosts run `exe isolate-host`; each is retired after creating `recycle_after` isolates.
  pub fn new(
    exe: PathBuf,
    recycle_after: u64,
    warm_isolates: usize,
    memory_mb: u64,
    node_memory_mb: u64,
  ) -> anyhow::Result<Arc<Fleet>> {
    let dir = tempfile::Builder::new()
      .prefix("edge-hosts-")
      .tempdir()
      .context("cannot create the hosts' socket folder")?;
    Ok(Arc::new(Fleet {
      exe,
      dir,
      recycle_after: recycle_after.max(1),
      warm_isolates,
      memory_mb,
      node_memory_mb,
      hosts: tokio::sync::Mutex::default(),
      next_id: AtomicU64::new(1),
      retired: AtomicU64::new(0),
      retired_stats: Mutex::default(),
      deaths: tokio::sync::watch::Sender::new(0),
    }))
  }

  /// The count of hosts that died unasked, changing with each.
  pub fn deaths(&self) -> tokio::sync::watch::Receiver<u64> {
    self.deaths.subscribe()
  }

  /// A host's process ended without being asked to: it leaves the fleet, its workers stop
  /// running, and whoever watches [`Fleet::deaths`] is told.
  async fn lost(&self, host: &Arc<Host>, cause: String) {
    {
      let mut hosts = self.hosts.lock().await;
      hosts.retain(|h| !Arc::ptr_eq(h, host));
    }
    // Out of the fleet first: a request told of the death starts its worker elsewhere.
    host.died.send_replace(Some(cause.clone()));
    let workers: Vec<Arc<Hosted>> =
      host.workers.lock().unwrap().drain(..).filter_map(|w| w.upgrade()).collect();
    for hosted in &workers {
      hosted.running.store(false, Ordering::Relaxed);
    }
    tracing::error!(
      pid = host.pid,
      workers = workers.len(),
      "an isolate host died ({cause}); its workers start again on a new host"
    );
    self.deaths.send_modify(|count| *count += 1);
  }

  /// The runtime counters of every host, the retired ones included (whose processes have
  /// exited, so they leak nothing any more).
  pub async fn stats(&self) -> RuntimeStats {
    let mut total = *self.retired_stats.lock().unwrap();
    let hosts: Vec<Arc<Host>> = self.hosts.lock().await.clone();
    for host in hosts {
      if let Some(stats) = host.stats().await {
        total.add(&stats);
      }
    }
    total
  }

  /// The memory ceiling each host keeps its isolates under, in MiB.
  pub fn node_memory_mb(&self) -> u64 {
    self.node_memory_mb
  }

  /// The resident memory of the host processes running now, in bytes.
  pub async fn resident_bytes(&self) -> u64 {
    let hosts: Vec<Arc<Host>> = self.hosts.lock().await.clone();
    hosts.iter().filter_map(|host| crate::observe::metrics::resident_bytes(Some(host.pid?))).sum()
  }

  /// Host processes running now, and how many have been retired so far.
  pub async fn hosts(&self) -> (usize, u64) {
    (self.hosts.lock().await.len(), self.retired.load(Ordering::Relaxed))
  }

  /// Starts `worker` in the current host (spawning one when there is none).
  pub async fn start(self: &Arc<Self>, worker: &LoadedWorker) -> Result<Arc<Hosted>, LoadError> {
    let host = self.current_host().await.map_err(|e| LoadError::Isolate(format!("{e:#}")))?;
    let id = self.next_id.fetch_add(1, Ordering::Relaxed).to_string();
    let spec = serde_json::to_vec(&HostedWorker::new(&worker.bundle, &worker.options))
      .map_err(|e| LoadError::Isolate(e.to_string()))?;
    let request =
      Request::put(format!("/workers/{id}")).body(Full::new(Bytes::from(spec))).expect("valid request");
    host.created.fetch_add(1, Ordering::Relaxed);
    host.resident.fetch_add(1, Ordering::Relaxed);
    let hosted = Arc::new(Hosted {
      host: host.clone(),
      id,
      running: AtomicBool::new(true),
      terminated: Mutex::default(),
      in_flight: Arc::default(),
      memory_bytes: AtomicUsize::new(0),
    });
    host.workers.lock().unwrap().push(Arc::downgrade(&hosted));
    if host.created.load(Ordering::Relaxed) >= self.recycle_after {
      host.retiring.store(true, Ordering::Relaxed);
    }
    let response =
      host.send(request).await.map_err(|e| LoadError::Isolate(format!("the isolate host failed: {e:#}")));
    let response = match response {
      Ok(response) => response,
      Err(e) => {
        self.release(&hosted).await;
        return Err(e);
      }
    };
    if response.headers().contains_key(FAILURE_HEADER) {
      let failure = failure_of(response).await.unwrap_or(Failure::Unavailable);
      self.release(&hosted).await;
      return Err(failure.into_load_error());
    }
    let body = response.into_body().collect().await.map(|b| b.to_bytes()).unwrap_or_default();
    if let Ok(started) = serde_json::from_slice::<Started>(&body) {
      hosted.memory_bytes.store(started.memory_bytes, Ordering::Relaxed);
    }
    Ok(hosted)
  }

  /// Stops a hosted worker and retires its host if it was the host's last one.
  pub async fn stop(&self, hosted: &Hosted) {
    if hosted.running.swap(false, Ordering::Relaxed) || hosted.terminated.lock().unwrap().is_some() {
      let request =
        Request::delete(format!("/workers/{}", hosted.id)).body(Full::default()).expect("valid request");
      let _ = hosted.host.send(request).await;
    }
    self.release(hosted).await;
  }

  async fn release(&self, hosted: &Hosted) {
    hosted.running.store(false, Ordering::Relaxed);
    let left = hosted.host.resident.fetch_sub(1, Ordering::Relaxed) - 1;
    if left == 0 && hosted.host.retiring.load(Ordering::Relaxed) {
      let mut hosts = self.hosts.lock().await;
      if let Some(at) = hosts.iter().position(|h| Arc::ptr_eq(h, &hosted.host)) {
        let host = hosts.swap_remove(at);
        self.retired.fetch_add(1, Ordering::Relaxed);
        // Its counters live on in the node's metrics; its leak goes with the process.
        if let Some(mut stats) = host.stats().await {
          stats.leaked_bytes_estimate = 0;
          self.retired_stats.lock().unwrap().add(&stats);
        }
        let estimate = host.created.load(Ordering::Relaxed) * edge_runtime::engine::LEAK_PER_DROPPED_ISOLATE;
        tracing::info!(
          isolates = host.created.load(Ordering::Relaxed),
          "retiring an isolate host (returns about {} MiB the engine leaked)",
          estimate >> 20
        );
        host.kill();
      }
    }
  }

  /// The host new workers go to.
  async fn current_host(self: &Arc<Self>) -> anyhow::Result<Arc<Host>> {
    let mut hosts = self.hosts.lock().await;
    if let Some(host) =
      hosts.iter().find(|h| !h.retiring.load(Ordering::Relaxed) && h.died.borrow().is_none())
    {
      return Ok(host.clone());
    }
    let socket = self.dir.path().join(format!("host-{}.sock", self.next_id.fetch_add(1, Ordering::Relaxed)));
    let mut child = tokio::process::Command::new(&self.exe)
      .arg("isolate-host")
      .arg("--socket")
      .arg(&socket)
      .args(["--warm-isolates", &self.warm_isolates.to_string(), "--memory-mb", &self.memory_mb.to_string()])
      .args(["--node-memory-mb", &self.node_memory_mb.to_string()])
      // Kept open and never written: the host exits when it reads end of input (this
      // process is gone).
      .stdin(std::process::Stdio::piped())
      .stdout(std::process::Stdio::piped())
      .kill_on_drop(true)
      .spawn()
      .context("cannot start an isolate host")?;
    let stdout = child.stdout.take().context("the isolate host has no stdout")?;
    let mut lines = tokio::io::BufReader::new(stdout).lines();
    let ready = tokio::time::timeout(HOST_START_TIMEOUT, lines.next_line()).await;
    if !matches!(ready, Ok(Ok(Some(ref line))) if line == "ready") {
      anyhow::bail!("the isolate host did not start: {ready:?}");
    }
    let (stop, stopped) = tokio::sync::oneshot::channel();
    let host = Arc::new(Host {
      socket,
      pid: child.id(),
      stop: Mutex::new(Some(stop)),
      created: AtomicU64::new(0),
      resident: AtomicU64::new(0),
      retiring: AtomicBool::new(false),
      died: tokio::sync::watch::Sender::new(None),
      workers: Mutex::default(),
      connection: tokio::sync::Mutex::default(),
    });
    tokio::spawn(supervise(Arc::downgrade(self), host.clone(), child, stopped));
    hosts.push(host.clone());
    Ok(host)
  }
}

/// Owns a host's process until it ends: stops it when asked, and reaps it either way (no
/// zombie is left); an end nobody asked for is the fleet's to handle.
async fn supervise(
  fleet: std::sync::Weak<Fleet>,
  host: Arc<Host>,
  mut child: tokio::process::Child,
  stopped: tokio::sync::oneshot::Receiver<()>,
) {
  // Held for as long as the host runs: it exits when its input ends (`wait` would close it).
  let _input = child.stdin.take();
  tokio::select! {
    status = child.wait() => {
      let cause = match status {
        Ok(status) => describe(status),
        Err(e) => format!("its process could not be waited for: {e}"),
      };
      if let Some(fleet) = fleet.upgrade() {
        fleet.lost(&host, cause).await;
      }
    }
    _ = stopped => {
      let _ = child.start_kill();
      let _ = child.wait().await;
    }
  }
}

/// How a process ended, in words: `killed by signal 9 (SIGKILL)`, `exited with status 1`.
fn describe(status: std::process::ExitStatus) -> String {
  use std::os::unix::process::ExitStatusExt as _;
  match (status.code(), status.signal()) {
    (Some(code), _) => format!("exited with status {code}"),
    (None, Some(signal)) => {
      let name = match signal {
        6 => " (SIGABRT)",
        9 => " (SIGKILL)",
        11 => " (SIGSEGV)",
        15 => " (SIGTERM)",
        _ => "",
      };
      format!("killed by signal {signal}{name}")
    }
    (None, None) => "ended".into(),
  }
}

impl Host {
  /// The host's runtime counters (`GET /stats`), if it answers.
  async fn stats(&self) -> Option<RuntimeStats> {
    let request = Request::get("/stats").body(Full::<Bytes>::default()).expect("valid request");
    let response = self.send(request).await.ok()?;
    let body = response.into_body().collect().await.ok()?.to_bytes();
    serde_json::from_slice(&body).ok()
  }

  /// Sends one request to the host, on the HTTP/2 connection every request to it shares.
  async fn send<B>(&self, request: Request<B>) -> anyhow::Result<Response<Incoming>>
  where
    B: http_body::Body<Data = Bytes> + Send + 'static,
    B::Error: Into<Box<dyn std::error::Error + Send + Sync>>,
  {
    let request = request.map(|body| HostBody::new(body.map_err(Into::into)));
    let mut sender = self.sender().await?;
    sender.ready().await.context("the connection to the isolate host closed")?;
    Ok(sender.send_request(request).await?)
  }

  /// The shared connection, made again when there is none or it has closed.
  async fn sender(&self) -> anyhow::Result<hyper::client::conn::http2::SendRequest<HostBody>> {
    let mut connection = self.connection.lock().await;
    if let Some(sender) = connection.as_ref().filter(|sender| !sender.is_closed()) {
      return Ok(sender.clone());
    }
    let stream = UnixStream::connect(&self.socket).await.context("cannot reach the isolate host")?;
    let (sender, driver) = hyper::client::conn::http2::Builder::new(hyper_util::rt::TokioExecutor::new())
      .adaptive_window(true)
      .handshake(TokioIo::new(stream))
      .await?;
    tokio::spawn(async move {
      let _ = driver.await;
    });
    *connection = Some(sender.clone());
    Ok(sender)
  }

  /// Stops the process (a retired host): its supervisor kills and reaps it.
  fn kill(&self) {
    if let Some(stop) = self.stop.lock().unwrap().take() {
      let _ = stop.send(());
    }
  }
}

impl Hosted {
  pub fn is_running(&self) -> bool {
    self.running.load(Ordering::Relaxed)
  }

  pub fn in_flight(&self) -> usize {
    self.in_flight.load(Ordering::Relaxed)
  }

  pub fn terminated(&self) -> Option<Termination> {
    *self.terminated.lock().unwrap()
  }

  /// How its host died, if it did.
  pub fn lost(&self) -> Option<String> {
    self.host.died.borrow().clone()
  }

  /// The isolate's measured memory, as its host reported it.
  pub fn memory_bytes(&self) -> usize {
    self.memory_bytes.load(Ordering::Relaxed)
  }

  /// Runs one request in the hosted worker; `url` is the request's absolute URL. The
  /// response carries the request's [`CpuTime`] in its extensions, as a local one does.
  pub async fn fetch<B>(
    &self,
    request: Request<B>,
    url: &str,
    request_id: &str,
  ) -> Result<Response<Incoming>, WorkerError>
  where
    B: http_body::Body<Data = Bytes> + Send + 'static,
    B::Error: Into<Box<dyn std::error::Error + Send + Sync>>,
  {
    self.in_flight.fetch_add(1, Ordering::Relaxed);
    let result = self.forward(request, url, request_id).await;
    self.in_flight.fetch_sub(1, Ordering::Relaxed);
    result
  }

  async fn forward<B>(
    &self,
    request: Request<B>,
    url: &str,
    request_id: &str,
  ) -> Result<Response<Incoming>, WorkerError>
  where
    B: http_body::Body<Data = Bytes> + Send + 'static,
    B::Error: Into<Box<dyn std::error::Error + Send + Sync>>,
  {
    let (mut parts, body) = request.into_parts();
    parts.uri = format!("/workers/{}/fetch", self.id).parse().map_err(|_| WorkerError::Unavailable)?;
    parts.version = http::Version::HTTP_11;
    if let Ok(url) = http::HeaderValue::from_str(url) {
      parts.headers.insert(URL_HEADER, url);
    }
    if let Ok(id) = http::HeaderValue::from_str(request_id) {
      parts.headers.insert(REQUEST_ID_HEADER, id);
    }
    let forwarded = Request::from_parts(parts, body);
    let response = match self.host.send(forwarded).await {
      Ok(response) => response,
      Err(e) => {
        // A host that died drops its connections a moment before its exit is seen: wait
        // that moment for its supervisor's word, so that the caller knows why.
        let mut died = self.host.died.subscribe();
        let known = tokio::time::timeout(Duration::from_secs(1), died.wait_for(Option::is_some)).await;
        if !matches!(known, Ok(Ok(_))) {
          tracing::error!("isolate host: {e:#}");
        }
        self.running.store(self.lost().is_none() && self.is_running(), Ordering::Relaxed);
        return Err(WorkerError::Unavailable);
      }
    };
    if response.headers().contains_key(FAILURE_HEADER) {
      let failure = failure_of(response).await.unwrap_or(Failure::Unavailable);
      let error = failure.into_worker_error();
      if let WorkerError::Terminated(reason) = error {
        *self.terminated.lock().unwrap() = Some(reason);
        self.running.store(false, Ordering::Relaxed);
      }
      return Err(error);
    }
    let mut response = response;
    let cpu = response.headers_mut().remove(CPU_HEADER);
    let cpu = cpu.and_then(|v| v.to_str().ok()?.parse::<u64>().ok()).unwrap_or_default();
    response.extensions_mut().insert(CpuTime(Duration::from_micros(cpu)));
    Ok(response)
  }
}

/// The failure a host reported, if the response is one.
async fn failure_of(response: Response<Incoming>) -> Option<Failure> {
  if !response.headers().contains_key(FAILURE_HEADER) {
    return None;
  }
  let body = response.into_body().collect().await.ok()?.to_bytes();
  Some(serde_json::from_slice(&body).unwrap_or(Failure::Unavailable))
}
