//! Connection hygiene: the limits every listener keeps on its connections, as data
//! ([`ConnectionLimits`], `[connections]` in node.toml and router.toml), and their one
//! enforcer.
//!
//! A [`Gate`] admits or refuses each accepted connection: at most so many open at once, and so
//! many from one client address (an IPv6 client's /64). Each admitted connection is watched by
//! [`drive`], which ticks a few times per shortest limit and reads what the connection's
//! [`Activity`] counted (bytes read and written, requests begun and answered, bodies waiting
//! for the client): a request head that does not arrive whole in time, a kept-alive connection
//! without requests, a request body the node is waiting for that arrives slower than the
//! minimum rate, a response the client does not take at that rate, or an HTTP/2 client that
//! cancels its requests faster than it lets them finish (the rapid-reset pattern). A response
//! that is streaming or a body that is arriving at a reasonable rate is never idle: only time
//! spent waiting for the client counts against it. Every refusal and every close is counted in
//! [`ConnectionMetrics`] and logged, at most one warning per listener and cause every ten
//! seconds, with the count of the others.
//!
//! The process's soft limit of open files is raised to its hard limit the first time limits
//! are resolved ([`open_files_limit`]), and the default cap on connections is kept below it.

use std::collections::HashMap;
use std::io;
use std::net::IpAddr;
use std::pin::Pin;
use std::sync::atomic::AtomicBool;
use std::sync::atomic::AtomicU64;
use std::sync::atomic::AtomicUsize;
use std::sync::atomic::Ordering;
use std::sync::Arc;
use std::sync::Mutex;
use std::sync::OnceLock;
use std::task::Context;
use std::task::Poll;
use std::time::Duration;
use std::time::Instant;

use bytes::Bytes;
use hyper_util::server::graceful::GracefulConnection;
use serde::Deserialize;
use tokio::io::AsyncRead;
use tokio::io::AsyncWrite;
use tokio::io::ReadBuf;
use tokio::sync::Notify;
use tokio::sync::Semaphore;

use crate::observe::metrics::ConnectionMetrics;
use crate::proto::body::BodyPace;
use crate::proto::Body;

/// `[connections]`: what a listener allows its clients. The defaults are in the range nginx,
/// Envoy and Kestrel use.
#[derive(Clone, Debug, Deserialize, PartialEq, Eq)]
#[serde(default, deny_unknown_fields)]
pub struct ConnectionLimits {
  /// The most connections open at once on the worker listeners together (plain and TLS);
  /// more are refused (`503` on plain HTTP). Default: the open-file limit (raised to its hard
  /// limit at start) less a reserve of a tenth of it plus 512, at most 50,000. The admin
  /// listener has its own, at most 1,024.
  pub max_connections: Option<usize>,
  /// The most connections open at once from one client address (for IPv6, its /64).
  /// Default 256.
  pub max_connections_per_client: usize,
  /// The most requests of one client address (all its connections together) the node works on
  /// at once; more wait their turn, so that one client's flood does not queue ahead of
  /// everyone else's requests. Default 128.
  pub max_requests_per_client: usize,
  /// A request's head must arrive whole within this many seconds: from the connection's
  /// start for its first request, from its first byte for later ones. Default 20.
  pub header_timeout_secs: u64,
  /// A kept-alive connection without a request for this many seconds is closed (HTTP/2: with
  /// GOAWAY). Default 60.
  pub idle_timeout_secs: u64,
  /// While the node waits for a request body from the client, or for the client to take a
  /// response the node has written, data must move at least this many bytes a second,
  /// measured over `rate_window_secs`; a slower connection is closed. Default 240.
  pub min_bytes_per_sec: u64,
  /// The window of `min_bytes_per_sec`, in seconds. Default 10.
  pub rate_window_secs: u64,
  /// A TLS handshake must finish within this many seconds. Default 10.
  pub tls_handshake_timeout_secs: u64,
  /// A request head (HTTP/1.1) or header list (HTTP/2) larger than this many bytes is
  /// refused; at least 8,192. Default 65,536.
  pub max_header_bytes: u32,
  /// HTTP/2: the most streams open at once on one connection. Default 100.
  pub http2_max_streams: u32,
  /// HTTP/2: a connection quiet for this many seconds is pinged, and closed if the ping is
  /// not answered within 20 seconds; 0 turns pings off. Default 30.
  pub http2_ping_secs: u64,
  /// HTTP/2: a connection whose client has cancelled more requests before their answer than
  /// it let finish, and more than this many, is closed (the rapid-reset pattern,
  /// CVE-2023-44487). Default 100.
  pub http2_max_cancelled: u64,
}

impl Default for ConnectionLimits {
  fn default() -> Self {
    ConnectionLimits {
      max_connections: None,
      max_connections_per_client: 256,
      max_requests_per_client: 128,
      header_timeout_secs: 20,
      idle_timeout_secs: 60,
      min_bytes_per_sec: 240,
      rate_window_secs: 10,
      tls_handshake_timeout_secs: 10,
      max_header_bytes: 64 * 1024,
      http2_max_streams: 100,
      http2_ping_secs: 30,
      http2_max_cancelled: 100,
    }
  }
}

impl ConnectionLimits {
  /// Checks the values; the error names the key.
  pub fn validate(&self) -> Result<(), String> {
    let at_least_one = [
      ("max_connections_per_client", self.max_connections_per_client as u64),
      ("max_requests_per_client", self.max_requests_per_client as u64),
      ("header_timeout_secs", self.header_timeout_secs),
      ("idle_timeout_secs", self.idle_timeout_secs),
      ("rate_window_secs", self.rate_window_secs),
      ("tls_handshake_timeout_secs", self.tls_handshake_timeout_secs),
      ("http2_max_streams", u64::from(self.http2_max_streams)),
    ];
    if let Some((key, _)) = at_least_one.iter().find(|(_, value)| *value == 0) {
      return Err(format!("connections.{key} must be at least 1"));
    }
    if self.max_connections == Some(0) {
      return Err("connections.max_connections must be at least 1".into());
    }
    if self.max_header_bytes < 8192 {
      return Err("connections.max_header_bytes must be at least 8192".into());
    }
    Ok(())
  }

  /// The cap on connections open at once: `max_connections`, or the default it documents.
  pub fn total(&self) -> usize {
    self.max_connections.unwrap_or_else(|| {
      let files = open_files_limit();
      let reserve = files / 10 + 512;
      (files.saturating_sub(reserve) as usize).clamp(64, 50_000)
    })
  }

  pub fn header_timeout(&self) -> Duration {
    Duration::from_secs(self.header_timeout_secs)
  }

  pub fn idle_timeout(&self) -> Duration {
    Duration::from_secs(self.idle_timeout_secs)
  }

  pub fn rate_window(&self) -> Duration {
    Duration::from_secs(self.rate_window_secs)
  }

  pub fn tls_handshake_timeout(&self) -> Duration {
    Duration::from_secs(self.tls_handshake_timeout_secs)
  }

  /// How often a connection's watch looks at it: a quarter of the shortest limit, between
  /// 50 ms and 1 s.
  fn tick(&self) -> Duration {
    let shortest = self.header_timeout().min(self.idle_timeout()).min(self.rate_window());
    (shortest / 4).clamp(Duration::from_millis(50), Duration::from_secs(1))
  }
}

/// The process's soft limit of open files, raised to its hard limit the first time this is
/// called (and logged).
pub fn open_files_limit() -> u64 {
  static LIMIT: OnceLock<u64> = OnceLock::new();
  *LIMIT.get_or_init(|| {
    let before = rlimit::Resource::NOFILE.get_soft().unwrap_or(1024);
    match rlimit::increase_nofile_limit(u64::MAX) {
      Ok(now) if now > before => {
        tracing::info!("open files: raised the soft limit from {before} to the hard limit {now}");
        now
      }
      Ok(now) => {
        tracing::info!("open files: the limit is {now}");
        now
      }
      Err(e) => {
        tracing::warn!("open files: cannot raise the soft limit {before}: {e}");
        before
      }
    }
  })
}

/// Why a connection was refused when accepted.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Refusal {
  /// The listener has as many connections open as it allows.
  Total,
  /// The client's address has as many open as one may.
  Client,
}

impl Refusal {
  /// The metric's label.
  pub fn reason(self) -> &'static str {
    match self {
      Refusal::Total => "total_limit",
      Refusal::Client => "client_limit",
    }
  }

  /// What the client is told.
  pub fn message(self) -> &'static str {
    match self {
      Refusal::Total => "the node has as many connections open as it allows; try again shortly",
      Refusal::Client => "too many connections from your address are open; close some and try again",
    }
  }
}

/// Admits connections up to a listener's caps; shared by the listeners whose connections it
/// counts together.
pub struct Gate {
  total: usize,
  per_client: u32,
  requests_per_client: usize,
  open: AtomicUsize,
  /// Each client's open connections, and the turns its requests take.
  clients: Mutex<HashMap<IpAddr, (u32, Arc<Semaphore>)>>,
  drained: Notify,
  metrics: ConnectionMetrics,
  refusals: Throttle,
  closes: Throttle,
}

impl Gate {
  /// A gate allowing `total` connections at once, `limits.max_connections_per_client` from
  /// one client.
  pub fn new(limits: &ConnectionLimits, total: usize, metrics: ConnectionMetrics) -> Arc<Gate> {
    Arc::new(Gate {
      total,
      per_client: u32::try_from(limits.max_connections_per_client).unwrap_or(u32::MAX),
      requests_per_client: limits.max_requests_per_client.min(Semaphore::MAX_PERMITS),
      open: AtomicUsize::new(0),
      clients: Mutex::new(HashMap::new()),
      drained: Notify::new(),
      metrics,
      refusals: Throttle::default(),
      closes: Throttle::default(),
    })
  }

  /// Admits a connection from `peer` on `listener`, or says why not (counted and logged).
  pub fn admit(self: &Arc<Self>, peer: IpAddr, listener: &'static str) -> Result<Permit, Refusal> {
    let client = client_of(peer);
    let admitted = {
      let mut clients = self.clients.lock().unwrap();
      let count = clients.get(&client).map_or(0, |(count, _)| *count);
      if self.open.load(Ordering::Relaxed) >= self.total {
        Err(Refusal::Total)
      } else if count >= self.per_client {
        Err(Refusal::Client)
      } else {
        let entry =
          clients.entry(client).or_insert_with(|| (0, Arc::new(Semaphore::new(self.requests_per_client))));
        entry.0 += 1;
        self.open.fetch_add(1, Ordering::Relaxed);
        Ok(entry.1.clone())
      }
    };
    match admitted {
      Ok(turns) => {
        self.metrics.opened(listener);
        Ok(Permit { gate: self.clone(), client, listener, turns })
      }
      Err(refusal) => {
        self.metrics.refused(listener, refusal.reason());
        if let Some(others) = self.refusals.hit() {
          tracing::warn!(%listener, client = %client, "refused a connection: {}{}", refusal.reason(), more(others));
        }
        Err(refusal)
      }
    }
  }

  /// Connections open now.
  pub fn open(&self) -> usize {
    self.open.load(Ordering::Relaxed)
  }

  /// Resolves once no connection is open.
  pub async fn drained(&self) {
    loop {
      let notified = self.drained.notified();
      tokio::pin!(notified);
      notified.as_mut().enable();
      if self.open() == 0 {
        return;
      }
      notified.await;
    }
  }

  fn closed(&self, listener: &'static str, reason: &'static str, peer: IpAddr) {
    self.metrics.closed(listener, reason);
    match self.closes.hit() {
      Some(others) => {
        tracing::warn!(%listener, client = %peer, "closed a connection: {reason}{}", more(others))
      }
      None => tracing::debug!(%listener, client = %peer, "closed a connection: {reason}"),
    }
  }
}

/// What a throttled line adds about the ones held back since the last.
fn more(held: u64) -> String {
  match held {
    0 => String::new(),
    held => format!(" (and {held} more since the last such line)"),
  }
}

/// An IPv4 address as it is; an IPv6 one as its /64 (one client's share of addresses).
fn client_of(peer: IpAddr) -> IpAddr {
  match peer {
    IpAddr::V4(_) => peer,
    IpAddr::V6(v6) => match v6.to_ipv4_mapped() {
      Some(v4) => IpAddr::V4(v4),
      None => {
        let mut segments = v6.segments();
        segments[4..].fill(0);
        IpAddr::V6(segments.into())
      }
    },
  }
}

/// One admitted connection: gives its place back when dropped.
pub struct Permit {
  gate: Arc<Gate>,
  client: IpAddr,
  listener: &'static str,
  turns: Arc<Semaphore>,
}

impl Permit {
  /// The turns its client's requests take (`max_requests_per_client` at once).
  pub fn turns(&self) -> Arc<Semaphore> {
    self.turns.clone()
  }
}

impl Drop for Permit {
  fn drop(&mut self) {
    {
      let mut clients = self.gate.clients.lock().unwrap();
      if let Some((count, _)) = clients.get_mut(&self.client) {
        *count -= 1;
        if *count == 0 {
          clients.remove(&self.client);
        }
      }
    }
    self.gate.metrics.ended(self.listener);
    if self.gate.open.fetch_sub(1, Ordering::Relaxed) == 1 {
      self.gate.drained.notify_waiters();
    }
  }
}

/// At most one log line per ten seconds; counts the ones it held back.
#[derive(Default)]
struct Throttle {
  /// Seconds since [`epoch`] of the last line, plus one (0: none yet).
  last: AtomicU64,
  held: AtomicU64,
}

impl Throttle {
  /// `Some(held back since the last line)` when a line may be written now.
  fn hit(&self) -> Option<u64> {
    let now = epoch().elapsed().as_secs() + 1;
    let last = self.last.load(Ordering::Relaxed);
    if last != 0 && now < last + 10 {
      self.held.fetch_add(1, Ordering::Relaxed);
      return None;
    }
    match self.last.compare_exchange(last, now, Ordering::Relaxed, Ordering::Relaxed) {
      Ok(_) => Some(self.held.swap(0, Ordering::Relaxed)),
      Err(_) => {
        self.held.fetch_add(1, Ordering::Relaxed);
        None
      }
    }
  }
}

fn epoch() -> Instant {
  static EPOCH: OnceLock<Instant> = OnceLock::new();
  *EPOCH.get_or_init(Instant::now)
}

/// What one connection has done, counted as it happens (by [`Metered`], the service and the
/// bodies) and read by its watch.
#[derive(Debug, Default)]
pub struct Activity {
  read: AtomicU64,
  written: AtomicU64,
  /// The last write found the client's window full.
  write_blocked: AtomicBool,
  /// Requests begun and ended (an answer whose body has ended or was dropped, or a request
  /// cancelled before its answer).
  begun: AtomicU64,
  ended: AtomicU64,
  cancelled: AtomicU64,
  http2: AtomicBool,
  /// The connection's request bodies.
  pub body: Arc<BodyPace>,
  /// Rung when a limit is broken between ticks (the rapid-reset pattern).
  alarm: Notify,
  max_cancelled: u64,
}

impl Activity {
  pub fn new(limits: &ConnectionLimits) -> Arc<Activity> {
    Arc::new(Activity { max_cancelled: limits.http2_max_cancelled, ..Activity::default() })
  }

  /// A request has begun: the returned guard ends it.
  pub fn begin(self: &Arc<Self>, version: http::Version) -> Answer {
    if version == http::Version::HTTP_2 {
      self.http2.store(true, Ordering::Relaxed);
    }
    self.begun.fetch_add(1, Ordering::Relaxed);
    Answer { activity: Some(self.clone()) }
  }

  fn end(&self) {
    self.ended.fetch_add(1, Ordering::Relaxed);
  }
}

/// A request being answered. Dropped before [`Answer::answered`], the request was cancelled
/// by its client.
pub struct Answer {
  activity: Option<Arc<Activity>>,
}

impl Answer {
  /// The response, its body telling the connection when it has ended.
  pub fn answered(mut self, response: http::Response<Body>) -> http::Response<Tracked> {
    let activity = self.activity.take();
    response.map(|inner| Tracked { inner, activity })
  }
}

impl Drop for Answer {
  fn drop(&mut self) {
    if let Some(activity) = self.activity.take() {
      activity.end();
      let cancelled = activity.cancelled.fetch_add(1, Ordering::Relaxed) + 1;
      let finished = activity.ended.load(Ordering::Relaxed).saturating_sub(cancelled);
      if cancelled > activity.max_cancelled && cancelled > finished {
        activity.alarm.notify_one();
      }
    }
  }
}

/// A response body that tells its connection when it has ended.
pub struct Tracked {
  inner: Body,
  activity: Option<Arc<Activity>>,
}

impl Tracked {
  fn done(&mut self) {
    if let Some(activity) = self.activity.take() {
      activity.end();
    }
  }
}

impl http_body::Body for Tracked {
  type Data = Bytes;
  type Error = Box<dyn std::error::Error + Send + Sync>;

  fn poll_frame(
    mut self: Pin<&mut Self>,
    cx: &mut Context<'_>,
  ) -> Poll<Option<Result<http_body::Frame<Bytes>, Self::Error>>> {
    let polled = Pin::new(&mut self.inner).poll_frame(cx);
    if matches!(polled, Poll::Ready(None) | Poll::Ready(Some(Err(_)))) {
      self.done();
    }
    polled
  }

  fn is_end_stream(&self) -> bool {
    self.inner.is_end_stream()
  }

  fn size_hint(&self) -> http_body::SizeHint {
    self.inner.size_hint()
  }
}

impl Drop for Tracked {
  fn drop(&mut self) {
    self.done();
  }
}

/// A connection's stream, counting what moves through it.
pub struct Metered<S> {
  inner: S,
  activity: Arc<Activity>,
}

impl<S> Metered<S> {
  pub fn new(inner: S, activity: Arc<Activity>) -> Metered<S> {
    Metered { inner, activity }
  }

  fn wrote(&self, polled: &Poll<io::Result<usize>>) {
    match polled {
      Poll::Pending => self.activity.write_blocked.store(true, Ordering::Relaxed),
      Poll::Ready(result) => {
        self.activity.write_blocked.store(false, Ordering::Relaxed);
        if let Ok(count) = result {
          self.activity.written.fetch_add(*count as u64, Ordering::Relaxed);
        }
      }
    }
  }
}

impl<S: AsyncRead + Unpin> AsyncRead for Metered<S> {
  fn poll_read(
    mut self: Pin<&mut Self>,
    cx: &mut Context<'_>,
    buf: &mut ReadBuf<'_>,
  ) -> Poll<io::Result<()>> {
    let before = buf.filled().len();
    let polled = Pin::new(&mut self.inner).poll_read(cx, buf);
    let count = buf.filled().len() - before;
    if count > 0 {
      self.activity.read.fetch_add(count as u64, Ordering::Relaxed);
    }
    polled
  }
}

impl<S: AsyncWrite + Unpin> AsyncWrite for Metered<S> {
  fn poll_write(mut self: Pin<&mut Self>, cx: &mut Context<'_>, buf: &[u8]) -> Poll<io::Result<usize>> {
    let polled = Pin::new(&mut self.inner).poll_write(cx, buf);
    self.wrote(&polled);
    polled
  }

  fn poll_write_vectored(
    mut self: Pin<&mut Self>,
    cx: &mut Context<'_>,
    bufs: &[io::IoSlice<'_>],
  ) -> Poll<io::Result<usize>> {
    let polled = Pin::new(&mut self.inner).poll_write_vectored(cx, bufs);
    self.wrote(&polled);
    polled
  }

  fn is_write_vectored(&self) -> bool {
    self.inner.is_write_vectored()
  }

  fn poll_flush(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
    Pin::new(&mut self.inner).poll_flush(cx)
  }

  fn poll_shutdown(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
    Pin::new(&mut self.inner).poll_shutdown(cx)
  }
}

/// What a connection's watch decided.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Verdict {
  /// Close it gracefully (an idle connection: HTTP/2 says GOAWAY).
  Close(&'static str),
  /// Drop it now.
  Cut(&'static str),
}

/// One connection's watch: what it saw at its last look.
struct Watch {
  header_timeout: Duration,
  idle_timeout: Duration,
  window: Duration,
  min_rate: u64,
  start: Instant,
  begun: u64,
  ended: u64,
  /// Since when no request has been in flight, and the bytes read by then.
  idle_since: Instant,
  idle_read: u64,
  /// When the watch first saw bytes of a next request's head.
  head_since: Option<Instant>,
  /// Since when (and from how many bytes) a body has been waited for, or a write blocked.
  body_window: Option<(Instant, u64)>,
  write_window: Option<(Instant, u64)>,
}

impl Watch {
  fn new(limits: &ConnectionLimits, start: Instant) -> Watch {
    Watch {
      header_timeout: limits.header_timeout(),
      idle_timeout: limits.idle_timeout(),
      window: limits.rate_window(),
      min_rate: limits.min_bytes_per_sec,
      start,
      begun: 0,
      ended: 0,
      idle_since: start,
      idle_read: 0,
      head_since: None,
      body_window: None,
      write_window: None,
    }
  }

  fn check(&mut self, activity: &Activity, now: Instant) -> Option<Verdict> {
    let begun = activity.begun.load(Ordering::Relaxed);
    let ended = activity.ended.load(Ordering::Relaxed);
    let read = activity.read.load(Ordering::Relaxed);
    if (begun, ended) != (self.begun, self.ended) {
      (self.begun, self.ended) = (begun, ended);
      if begun == ended {
        self.idle_since = now;
        self.idle_read = read;
        self.head_since = None;
      }
    }
    if begun == ended {
      self.body_window = None;
      self.write_window = None;
      if begun == 0 {
        // The first request's head, from the connection's start (TLS handshake included).
        return (now - self.start >= self.header_timeout).then_some(Verdict::Cut("header_timeout"));
      }
      if !activity.http2.load(Ordering::Relaxed) && read > self.idle_read {
        let since = *self.head_since.get_or_insert(now);
        return (now - since >= self.header_timeout).then_some(Verdict::Cut("header_timeout"));
      }
      return (now - self.idle_since >= self.idle_timeout).then_some(Verdict::Close("idle_timeout"));
    }
    let waiting = activity.body.waiting.load(Ordering::Relaxed) > 0;
    let received = activity.body.received.load(Ordering::Relaxed);
    if pace(&mut self.body_window, waiting, received, now, self.window, self.min_rate) {
      return Some(Verdict::Cut("slow_body"));
    }
    let blocked = activity.write_blocked.load(Ordering::Relaxed);
    let written = activity.written.load(Ordering::Relaxed);
    if pace(&mut self.write_window, blocked, written, now, self.window, self.min_rate) {
      return Some(Verdict::Cut("slow_read"));
    }
    None
  }
}

/// Whether data that has been waited for over a whole `window` moved slower than `min_rate`;
/// `window_start` keeps the wait's start (and the count then) between looks.
fn pace(
  window_start: &mut Option<(Instant, u64)>,
  waiting: bool,
  count: u64,
  now: Instant,
  window: Duration,
  min_rate: u64,
) -> bool {
  if !waiting {
    *window_start = None;
    return false;
  }
  let (since, from) = *window_start.get_or_insert((now, count));
  let waited = now - since;
  if waited < window {
    return false;
  }
  *window_start = Some((now, count));
  ((count - from) as f64) < min_rate as f64 * waited.as_secs_f64()
}

/// Serves one admitted connection until it ends, is closed on a limit, or (after `stop`) has
/// finished what it was doing.
pub async fn drive<C>(
  connection: C,
  activity: Arc<Activity>,
  limits: &ConnectionLimits,
  permit: &Permit,
  peer: IpAddr,
  mut stop: tokio::sync::watch::Receiver<bool>,
) where
  C: GracefulConnection<Error = Box<dyn std::error::Error + Send + Sync>>,
{
  tokio::pin!(connection);
  let start = Instant::now();
  let mut watch = Watch::new(limits, start);
  let tick = limits.tick();
  let mut ticks = tokio::time::interval_at(tokio::time::Instant::from_std(start) + tick, tick);
  ticks.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
  let mut closing = false;
  let gate = &permit.gate;
  let listener = permit.listener;
  loop {
    tokio::select! {
      ended = connection.as_mut() => {
        if let Err(e) = ended {
          match calmed(e.as_ref()) {
            // HTTP/2's own guard (the h2 crate's) against streams reset before they were
            // accepted: the same pattern, counted the same.
            true => gate.closed(listener, "rapid_reset", peer),
            false => tracing::debug!(%listener, client = %peer, "connection ended: {e}"),
          }
        }
        return;
      }
      _ = stop.wait_for(|stop| *stop), if !closing => {
        closing = true;
        connection.as_mut().graceful_shutdown();
      }
      () = activity.alarm.notified() => {
        gate.closed(listener, "rapid_reset", peer);
        return;
      }
      _ = ticks.tick() => match watch.check(&activity, Instant::now()) {
        None => {}
        Some(Verdict::Close(reason)) if !closing => {
          closing = true;
          gate.closed(listener, reason, peer);
          connection.as_mut().graceful_shutdown();
        }
        // Closing already: the connection ends when its last answer does.
        Some(Verdict::Close(_)) => {}
        Some(Verdict::Cut(reason)) => {
          gate.closed(listener, reason, peer);
          return;
        }
      },
    }
  }
}

/// Whether `error` is HTTP/2's GOAWAY with `ENHANCE_YOUR_CALM`, which the h2 crate sends to a
/// client that resets too many streams.
fn calmed(error: &(dyn std::error::Error + 'static)) -> bool {
  let mut next = Some(error);
  while let Some(error) = next {
    if let Some(h2) = error.downcast_ref::<h2::Error>() {
      return h2.is_go_away() && h2.reason() == Some(h2::Reason::ENHANCE_YOUR_CALM);
    }
    next = error.source();
  }
  false
}

/// Counts a TLS handshake that did not finish in time.
pub fn handshake_timed_out(permit: &Permit, peer: IpAddr) {
  permit.gate.closed(permit.listener, "tls_handshake_timeout", peer);
}

#[cfg(test)]
mod tests {
  use super::*;

  #[test]
  fn cancelling_more_than_finishing_rings_the_alarm() {
    use futures::FutureExt as _;
    use http_body_util::BodyExt as _;
    let limits = ConnectionLimits { http2_max_cancelled: 3, ..ConnectionLimits::default() };
    let activity = Activity::new(&limits);
    for _ in 0..5 {
      let body: Body = http_body_util::Empty::<Bytes>::new().map_err(|e| match e {}).boxed();
      drop(activity.begin(http::Version::HTTP_2).answered(http::Response::new(body)));
    }
    // Five cancelled against five answered: over the limit, but not more than answered.
    for _ in 0..5 {
      drop(activity.begin(http::Version::HTTP_2));
    }
    assert!(activity.alarm.notified().now_or_never().is_none(), "no alarm yet");
    drop(activity.begin(http::Version::HTTP_2));
    assert!(activity.alarm.notified().now_or_never().is_some(), "the alarm rang");
    assert_eq!(activity.begun.load(Ordering::Relaxed), activity.ended.load(Ordering::Relaxed));
  }

  #[test]
  fn an_ipv6_client_is_its_64() {
    let a: IpAddr = "2001:db8:1:2:aaaa::1".parse().unwrap();
    let b: IpAddr = "2001:db8:1:2:bbbb::2".parse().unwrap();
    let other: IpAddr = "2001:db8:1:3::1".parse().unwrap();
    assert_eq!(client_of(a), client_of(b));
    assert_ne!(client_of(a), client_of(other));
    let mapped: IpAddr = "::ffff:127.0.0.2".parse().unwrap();
    assert_eq!(client_of(mapped), "127.0.0.2".parse::<IpAddr>().unwrap());
  }

  #[test]
  fn a_wait_slower_than_the_rate_over_a_window_is_slow() {
    let start = Instant::now();
    let window = Duration::from_secs(10);
    let mut state = None;
    assert!(!pace(&mut state, true, 0, start, window, 240));
    assert!(!pace(&mut state, true, 100, start + Duration::from_secs(5), window, 240));
    assert!(pace(&mut state, true, 200, start + Duration::from_secs(10), window, 240));
    let mut state = None;
    assert!(!pace(&mut state, true, 0, start, window, 240));
    assert!(!pace(&mut state, true, 5_000, start + Duration::from_secs(10), window, 240));
    // A pause in the wait starts the window again.
    assert!(!pace(&mut state, false, 5_000, start + Duration::from_secs(15), window, 240));
    assert!(state.is_none());
  }
}
