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
//!
//! The node's memory ceiling holds over all its hosts together: each host's ledger gets a
//! *share* (`PUT /ceiling`), and [`Fleet::balance`] moves the shares every
//! [`BALANCE_INTERVAL`] and whenever a host is spawned. The budget is the ceiling less what the
//! engine has leaked in the running hosts; each host keeps what its isolates hold now, and
//! what is free is split evenly among the hosts. The shares never add up to more than the
//! budget, so neither do the isolates' grants, and a host near its share refuses new isolates
//! or stops its largest, as one process under the whole ceiling would.

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

/// How long a new host may take to say it is ready.
const HOST_START_TIMEOUT: Duration = Duration::from_secs(30);

/// How often the hosts' shares of the memory ceiling are moved.
const BALANCE_INTERVAL: Duration = Duration::from_millis(500);

/// How long a host may take to answer a call of the fleet's own (its figures, its share).
const HOST_CALL_TIMEOUT: Duration = Duration::from_secs(1);

/// The node's isolate hosts.
pub struct Fleet {
  exe: PathBuf,
  dir: tempfile::TempDir,
  recycle_after: u64,
  warm_isolates: usize,
  memory_mb: u64,
  /// The node's memory ceiling over all hosts' isolates, in bytes.
  ceiling_bytes: u64,
  /// PEM files of further roots outbound TLS trusts, passed on to each host.
  trusted_roots: Vec<PathBuf>,
  hosts: tokio::sync::Mutex<Vec<Arc<Host>>>,
  next_id: AtomicU64,
  retired: AtomicU64,
  /// The counters of hosts that are gone (retired or dead; for a dead one, as last read).
  gone_stats: Mutex<HostStats>,
  /// Whether the task that balances the hosts' shares runs.
  balancing: AtomicBool,
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
  /// Its figures as last read.
  last: Mutex<HostStats>,
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
    trusted_roots: Vec<PathBuf>,
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
      ceiling_bytes: node_memory_mb << 20,
      trusted_roots,
      hosts: tokio::sync::Mutex::default(),
      next_id: AtomicU64::new(1),
      retired: AtomicU64::new(0),
      gone_stats: Mutex::default(),
      balancing: AtomicBool::new(false),
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
    // Its counters as last read live on; its leak and its share went with the process.
    self.forget(&host.last.lock().unwrap());
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

  /// The figures of every host, the gone ones' counters included: their runtimes', their
  /// pools' and their ledgers' (whose limit is the node's ceiling, shared out).
  pub async fn stats(&self) -> HostStats {
    let mut total = *self.gone_stats.lock().unwrap();
    let hosts: Vec<Arc<Host>> = self.hosts.lock().await.clone();
    for host in hosts {
      if let Some(stats) = host.stats().await {
        add(&mut total, &stats);
      }
    }
    total.ceiling.limit_bytes = self.ceiling_bytes;
    total
  }

  /// A start refused near the ceiling, in the node's figures: what the running hosts' isolates
  /// hold (as last read) and the engine leaked in them, of the whole ceiling.
  async fn refusal(&self) -> LoadError {
    let hosts: Vec<Arc<Host>> = self.hosts.lock().await.clone();
    let held: u64 = hosts
      .iter()
      .map(|host| {
        let last = host.last.lock().unwrap();
        last.ceiling.granted_bytes + last.runtime.leaked_bytes_estimate
      })
      .sum();
    LoadError::NodeMemory { granted_mb: held >> 20, limit_mb: self.ceiling_bytes >> 20 }
  }

  /// Counts a host that is gone: its counters stay, what it held now is no more.
  fn forget(&self, last: &HostStats) {
    let mut gone = *last;
    gone.runtime.leaked_bytes_estimate = 0;
    gone.pool = edge_runtime::PoolStats { ready: 0, warming: 0, target: 0, ..gone.pool };
    gone.ceiling =
      edge_runtime::CeilingStats { limit_bytes: 0, granted_bytes: 0, isolates: 0, ..gone.ceiling };
    add(&mut self.gone_stats.lock().unwrap(), &gone);
  }

  /// Moves the hosts' shares of the memory ceiling (see the module's documentation).
  async fn balance(&self) {
    let hosts = self.hosts.lock().await;
    self.share_out(&hosts, false).await;
  }

  /// Gives each of `hosts` its share of the ceiling: what it holds now plus an even part of
  /// what is free, counting a `newcomer` about to start; returns the newcomer's share.
  async fn share_out(&self, hosts: &[Arc<Host>], newcomer: bool) -> u64 {
    let mut read = Vec::with_capacity(hosts.len());
    for host in hosts {
      match tokio::time::timeout(HOST_CALL_TIMEOUT, host.stats()).await {
        Ok(Some(stats)) => read.push((host, stats)),
        // A host that does not answer now keeps its share, and it counts as held.
        _ => read.push((host, *host.last.lock().unwrap())),
      }
    }
    let leaked: u64 = read.iter().map(|(_, stats)| stats.runtime.leaked_bytes_estimate).sum();
    let held: u64 = read.iter().map(|(_, stats)| stats.ceiling.granted_bytes).sum();
    let budget = self.ceiling_bytes.saturating_sub(leaked);
    let free = budget.saturating_sub(held);
    let part = free / (read.len() as u64 + u64::from(newcomer)).max(1);
    for (host, stats) in read {
      let limit = stats.ceiling.granted_bytes + part;
      if limit != stats.ceiling.limit_bytes {
        let _ = tokio::time::timeout(HOST_CALL_TIMEOUT, host.share(limit)).await;
      }
    }
    part
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
      return Err(match failure {
        // The host refused at its share: say what the node's whole ceiling holds.
        Failure::NodeMemory { .. } => self.refusal().await,
        failure => failure.into_load_error(),
      });
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
        let last = host.stats().await.unwrap_or_else(|| *host.last.lock().unwrap());
        self.forget(&last);
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
    // Its share of the memory ceiling comes out of the others' free part first.
    let share = self.share_out(&hosts, true).await;
    let socket = self.dir.path().join(format!("host-{}.sock", self.next_id.fetch_add(1, Ordering::Relaxed)));
    let mut child = tokio::process::Command::new(&self.exe)
      .arg("isolate-host")
      .arg("--socket")
      .arg(&socket)
      .args(["--warm-isolates", &self.warm_isolates.to_string(), "--memory-mb", &self.memory_mb.to_string()])
      .args(["--ceiling-bytes", &share.to_string()])
      .args(
        self
          .trusted_roots
          .iter()
          .flat_map(|file| [std::ffi::OsStr::new("--trusted-roots"), file.as_os_str()]),
      )
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
      last: Mutex::default(),
      connection: tokio::sync::Mutex::default(),
    });
    tokio::spawn(supervise(Arc::downgrade(self), host.clone(), child, stopped));
    hosts.push(host.clone());
    if !self.balancing.swap(true, Ordering::Relaxed) {
      tokio::spawn(balance(Arc::downgrade(self)));
    }
    Ok(host)
  }
}

/// Moves the hosts' shares of the ceiling every [`BALANCE_INTERVAL`], for as long as the
/// fleet exists.
async fn balance(fleet: std::sync::Weak<Fleet>) {
  let mut every = tokio::time::interval(BALANCE_INTERVAL);
  every.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
  loop {
    every.tick().await;
    let Some(fleet) = fleet.upgrade() else { return };
    fleet.balance().await;
  }
}

/// Adds one host's figures to a total.
fn add(total: &mut HostStats, other: &HostStats) {
  total.runtime.add(&other.runtime);
  total.pool.add(&other.pool);
  total.ceiling.add(&other.ceiling);
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
  /// The host's figures (`GET /stats`), if it answers; kept as its last known.
  async fn stats(&self) -> Option<HostStats> {
    let request = Request::get("/stats").body(Full::<Bytes>::default()).expect("valid request");
    let response = self.send(request).await.ok()?;
    let body = response.into_body().collect().await.ok()?.to_bytes();
    let stats: HostStats = serde_json::from_slice(&body).ok()?;
    *self.last.lock().unwrap() = stats;
    Some(stats)
  }

  /// Moves the host's share of the memory ceiling to `limit_bytes`.
  async fn share(&self, limit_bytes: u64) -> anyhow::Result<()> {
    let share = serde_json::to_vec(&CeilingShare { limit_bytes })?;
    let request = Request::put("/ceiling").body(Full::new(Bytes::from(share))).expect("valid request");
    let response = self.send(request).await?;
    anyhow::ensure!(response.status().is_success(), "the host refused its share: {}", response.status());
    Ok(())
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
