//! The node's metrics, in the Prometheus (OpenMetrics) text format, served at `/metrics` on
//! the admin listener.
//!
//! Counters and histograms are updated where things happen (the request path, the warm-worker
//! cache); gauges that describe a state (resident isolates, the pre-warmed pool, the runtime's
//! own counters) are read when the metrics are scraped.

use std::sync::atomic::AtomicI64;
use std::sync::atomic::Ordering;
use std::time::Duration;

use prometheus_client::encoding::EncodeLabelSet;
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::gauge::Gauge;
use prometheus_client::metrics::histogram::exponential_buckets;
use prometheus_client::metrics::histogram::Histogram;
use prometheus_client::registry::Registry;

/// The content type of [`Metrics::encode`]'s output.
pub const CONTENT_TYPE: &str = "application/openmetrics-text; version=1.0.0; charset=utf-8";

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct WorkerLabel {
  pub worker: String,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct StatusLabels {
  pub worker: String,
  pub status: u16,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct ReasonLabels {
  pub worker: String,
  pub reason: String,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct QueueLabels {
  pub queue: String,
  pub consumer: String,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct QueueOutcomeLabels {
  pub queue: String,
  pub consumer: String,
  pub outcome: &'static str,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct AlertLabels {
  pub worker: String,
  pub kind: &'static str,
}

/// Whether a start found a pre-warmed isolate (`hit`) or prepared its own (`miss`).
#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct PoolResultLabel {
  pub result: &'static str,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct CauseLabel {
  pub cause: &'static str,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct ListenerLabel {
  pub listener: &'static str,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct ListenerReasonLabels {
  pub listener: &'static str,
  pub reason: &'static str,
}

type Histograms = Family<WorkerLabel, Histogram, fn() -> Histogram>;

/// What the listeners count of their connections (`serve::connections` updates them). A
/// listener outside a node (the router's) keeps its own, unregistered.
#[derive(Clone, Debug, Default)]
pub struct ConnectionMetrics {
  open: Family<ListenerLabel, Gauge>,
  refused: Family<ListenerReasonLabels, Counter>,
  closed: Family<ListenerReasonLabels, Counter>,
}

impl ConnectionMetrics {
  fn register(&self, registry: &mut Registry) {
    registry.register("connections_open", "Connections open now, by listener", self.open.clone());
    registry.register(
      "connections_refused",
      "Connections refused when accepted, by listener and reason (total_limit, client_limit)",
      self.refused.clone(),
    );
    registry.register(
      "connections_closed_by_node",
      "Connections the node closed on a limit, by listener and reason (header_timeout, idle_timeout, slow_body, slow_read, tls_handshake_timeout, rapid_reset)",
      self.closed.clone(),
    );
  }

  pub fn opened(&self, listener: &'static str) {
    self.open.get_or_create(&ListenerLabel { listener }).inc();
  }

  pub fn ended(&self, listener: &'static str) {
    self.open.get_or_create(&ListenerLabel { listener }).dec();
  }

  pub fn refused(&self, listener: &'static str, reason: &'static str) {
    self.refused.get_or_create(&ListenerReasonLabels { listener, reason }).inc();
  }

  pub fn closed(&self, listener: &'static str, reason: &'static str) {
    self.closed.get_or_create(&ListenerReasonLabels { listener, reason }).inc();
  }
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct DirectionLabels {
  pub worker: String,
  /// `in` (from clients to the worker) or `out`.
  pub direction: &'static str,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct ClosedByLabels {
  pub worker: String,
  /// `client`, `worker`, `idle`, `message_size`, `limit`, `isolate_stopped`, `node_stopping`
  /// or `lost`.
  pub by: &'static str,
}

/// What the node counts of its workers' WebSockets (`serve::websocket` updates them) and
/// of their outbound TCP sockets (from each response's [`edge_runtime::SocketTraffic`]).
#[derive(Clone, Debug, Default)]
pub struct SocketMetrics {
  open: Family<WorkerLabel, Gauge>,
  accepted: Family<WorkerLabel, Counter>,
  refused: Family<WorkerLabel, Counter>,
  closed: Family<ClosedByLabels, Counter>,
  messages: Family<DirectionLabels, Counter>,
  bytes: Family<DirectionLabels, Counter>,
  tcp_connections: Family<WorkerLabel, Counter>,
  tcp_bytes: Family<DirectionLabels, Counter>,
}

/// One socket's handles on its worker's counters, got once when it opens.
pub struct SocketCounters {
  pub messages_in: Counter,
  pub messages_out: Counter,
  pub bytes_in: Counter,
  pub bytes_out: Counter,
}

impl SocketMetrics {
  fn register(&self, registry: &mut Registry) {
    registry.register("websockets_open", "WebSockets open now, by worker", self.open.clone());
    registry.register("websockets_accepted", "WebSockets workers accepted", self.accepted.clone());
    registry.register(
      "websockets_refused",
      "WebSocket upgrades refused because the worker had its limit of open sockets (limits.websockets)",
      self.refused.clone(),
    );
    registry.register(
      "websockets_closed",
      "WebSockets closed, by worker and by whom or why (client, worker, idle, message_size, limit, isolate_stopped, node_stopping, lost)",
      self.closed.clone(),
    );
    registry.register(
      "websocket_messages",
      "WebSocket messages, by worker and direction (in, out)",
      self.messages.clone(),
    );
    registry.register(
      "websocket_bytes",
      "WebSocket message payload bytes, by worker and direction (in, out)",
      self.bytes.clone(),
    );
    registry.register(
      "tcp_connections",
      "TCP connections workers opened (connect(), node:net), by worker",
      self.tcp_connections.clone(),
    );
    registry.register(
      "tcp_bytes",
      "Bytes workers' TCP sockets carried, by worker and direction (in: read from servers, out: written to them)",
      self.tcp_bytes.clone(),
    );
  }

  /// What `worker`'s TCP sockets carried, as a response reported it.
  pub fn tcp(&self, worker: &str, traffic: edge_runtime::SocketTraffic) {
    if traffic.connections > 0 {
      self
        .tcp_connections
        .get_or_create(&WorkerLabel { worker: worker.to_owned() })
        .inc_by(traffic.connections);
    }
    for (direction, bytes) in [("in", traffic.bytes_in), ("out", traffic.bytes_out)] {
      if bytes > 0 {
        self.tcp_bytes.get_or_create(&DirectionLabels { worker: worker.to_owned(), direction }).inc_by(bytes);
      }
    }
  }

  /// A socket of `worker` opened; its counters.
  pub fn opened(&self, worker: &str) -> SocketCounters {
    let label = WorkerLabel { worker: worker.to_owned() };
    self.open.get_or_create(&label).inc();
    self.accepted.get_or_create(&label).inc();
    // One statement each: a family's guard lives to the end of its statement, and a second
    // get_or_create of a new label in the same family would wait on it for ever.
    let counter = |family: &Family<DirectionLabels, Counter>, direction| {
      let counter = family.get_or_create(&DirectionLabels { worker: worker.to_owned(), direction }).clone();
      counter
    };
    let messages_in = counter(&self.messages, "in");
    let messages_out = counter(&self.messages, "out");
    let bytes_in = counter(&self.bytes, "in");
    let bytes_out = counter(&self.bytes, "out");
    SocketCounters { messages_in, messages_out, bytes_in, bytes_out }
  }

  /// A socket of `worker` closed.
  pub fn closed(&self, worker: &str, by: &'static str) {
    self.open.get_or_create(&WorkerLabel { worker: worker.to_owned() }).dec();
    self.closed.get_or_create(&ClosedByLabels { worker: worker.to_owned(), by }).inc();
  }

  /// An upgrade of `worker` refused for its limit of open sockets.
  pub fn refused(&self, worker: &str) {
    self.refused.get_or_create(&WorkerLabel { worker: worker.to_owned() }).inc();
  }
}

/// Every metric of a node.
pub struct Metrics {
  registry: Registry,
  requests: Family<StatusLabels, Counter>,
  cold_starts: Family<WorkerLabel, Counter>,
  tls_prestarts: Family<WorkerLabel, Counter>,
  coalesced: Family<WorkerLabel, Counter>,
  scale_outs: Family<WorkerLabel, Counter>,
  warm_hits: Family<WorkerLabel, Counter>,
  evictions: Family<CauseLabel, Counter>,
  terminations: Family<ReasonLabels, Counter>,
  duration: Histograms,
  cpu: Histograms,
  resident: Gauge,
  cached_workers: Gauge,
  cache_weight: Gauge,
  pool_ready: Gauge,
  pool_warming: Gauge,
  pool_target: Gauge,
  pool_starts: Family<PoolResultLabel, Counter>,
  pool_failures: Counter,
  host_deaths: Counter,
  memory: MemoryMetrics,
  isolates_created: Gauge,
  isolates_dropped: Gauge,
  leaked: Gauge,
  cold_ratio: Family<WorkerLabel, Gauge<f64, std::sync::atomic::AtomicU64>>,
  alerts: Family<AlertLabels, Counter>,
  budget_used: Family<WorkerLabel, Gauge<f64, std::sync::atomic::AtomicU64>>,
  queue_messages: Family<QueueOutcomeLabels, Counter>,
  queue_backlog: Family<QueueLabels, Gauge>,
  queue_in_flight: Family<QueueLabels, Gauge>,
  connections: ConnectionMetrics,
  sockets: SocketMetrics,
  /// Isolates held now, counted as they start and stop.
  resident_count: AtomicI64,
  /// Each worker's recent figures, for the dashboard.
  recent: crate::observe::stats::Stats,
}

fn latency_histogram() -> Histogram {
  // 50 µs to about 13 s.
  Histogram::new(exponential_buckets(0.00005, 2.0, 19))
}

fn cpu_histogram() -> Histogram {
  // 10 µs to about 2.6 s.
  Histogram::new(exponential_buckets(0.00001, 2.0, 19))
}

impl Default for Metrics {
  fn default() -> Self {
    Metrics::new()
  }
}

impl Metrics {
  pub fn new() -> Metrics {
    let mut registry = Registry::with_prefix("edge");
    let requests = Family::<StatusLabels, Counter>::default();
    registry.register(
      "requests",
      "Requests answered, by worker (\"-\" for an unknown host) and status",
      requests.clone(),
    );
    let cold_starts = Family::<WorkerLabel, Counter>::default();
    registry.register(
      "cold_starts",
      "Isolates booted for a worker that had none running",
      cold_starts.clone(),
    );
    let tls_prestarts = Family::<WorkerLabel, Counter>::default();
    registry.register(
      "tls_prestarts",
      "Workers started by the name a TLS client asked for (SNI), before its first request",
      tls_prestarts.clone(),
    );
    let coalesced = Family::<WorkerLabel, Counter>::default();
    registry.register(
      "coalesced_starts",
      "Requests that waited for a cold start another request had begun",
      coalesced.clone(),
    );
    let scale_outs = Family::<WorkerLabel, Counter>::default();
    registry.register(
      "scale_outs",
      "Extra isolates started because all of a worker's were busy",
      scale_outs.clone(),
    );
    let warm_hits = Family::<WorkerLabel, Counter>::default();
    registry.register(
      "warm_hits",
      "Requests served by an isolate that was already resident",
      warm_hits.clone(),
    );
    let evictions = Family::<CauseLabel, Counter>::default();
    registry.register(
      "evictions",
      "Workers removed from the warm-worker cache (idle, capacity, redeployed, removed)",
      evictions.clone(),
    );
    let terminations = Family::<ReasonLabels, Counter>::default();
    registry.register(
      "terminations",
      "Isolates stopped for exceeding a limit, by reason",
      terminations.clone(),
    );
    let duration = Histograms::new_with_constructor(latency_histogram as fn() -> Histogram);
    registry.register(
      "request_duration_seconds",
      "Time from the request's arrival to its response head",
      duration.clone(),
    );
    let cpu = Histograms::new_with_constructor(cpu_histogram as fn() -> Histogram);
    registry.register("request_cpu_seconds", "CPU time a request spent in JavaScript", cpu.clone());
    let resident = Gauge::default();
    registry.register("resident_isolates", "Isolates serving workers now", resident.clone());
    let cached_workers = Gauge::default();
    registry.register("cached_workers", "Worker versions in the warm-worker cache", cached_workers.clone());
    let cache_weight = Gauge::default();
    registry.register(
      "cache_weight_kibibytes",
      "Measured memory of the cached workers' isolates, as the cache weighs it",
      cache_weight.clone(),
    );
    let pool_ready = Gauge::default();
    registry.register(
      "pool_ready_isolates",
      "Pre-warmed isolates ready for a cold start",
      pool_ready.clone(),
    );
    let pool_warming = Gauge::default();
    registry.register(
      "pool_warming_isolates",
      "Pre-warmed isolates being prepared (restored from the snapshot) now",
      pool_warming.clone(),
    );
    let pool_target = Gauge::default();
    registry.register(
      "pool_target_isolates",
      "Pre-warmed isolates the pool means to keep ready: the cold starts of the busiest second of the last minute, within warm_isolates and warm_isolates_max",
      pool_target.clone(),
    );
    let pool_starts = Family::<PoolResultLabel, Counter>::default();
    registry.register(
      "pool_starts",
      "Isolate starts by whether the pool had a pre-warmed isolate ready (hit) or not (miss: it prepared its own)",
      pool_starts.clone(),
    );
    let host_deaths = Counter::default();
    registry.register(
      "isolate_host_deaths",
      "Isolate host processes that died unasked (their workers were started again on a new host)",
      host_deaths.clone(),
    );
    let pool_failures = Counter::default();
    registry.register(
      "pool_failures",
      "Pre-warmed isolates the pool failed to prepare",
      pool_failures.clone(),
    );
    let memory = MemoryMetrics::register(&mut registry);
    let isolates_created = Gauge::default();
    registry.register(
      "isolates_created",
      "Isolates created so far, by this process and its isolate hosts",
      isolates_created.clone(),
    );
    let isolates_dropped = Gauge::default();
    registry.register(
      "isolates_dropped",
      "Isolates dropped so far, by this process and its isolate hosts",
      isolates_dropped.clone(),
    );
    let leaked = Gauge::default();
    registry.register(
      "engine_leaked_bytes_estimate",
      "Memory the engine keeps for dropped isolates until the process exits (estimate)",
      leaked.clone(),
    );
    let cold_ratio = Family::<WorkerLabel, Gauge<f64, std::sync::atomic::AtomicU64>>::default();
    registry.register(
      "cold_start_ratio",
      "Share of a worker's requests since the node started that waited for an isolate to boot, read at scrape time",
      cold_ratio.clone(),
    );
    let queue_messages = Family::<QueueOutcomeLabels, Counter>::default();
    registry.register(
      "queue_messages",
      "Queue messages settled by this node's consumers: acked, retried, dead_lettered",
      queue_messages.clone(),
    );
    let queue_backlog = Family::<QueueLabels, Gauge>::default();
    registry.register(
      "queue_backlog",
      "Messages a consumer has not settled yet (waiting plus in flight), read at scrape time",
      queue_backlog.clone(),
    );
    let queue_in_flight = Family::<QueueLabels, Gauge>::default();
    registry.register(
      "queue_in_flight",
      "Messages delivered to a consumer and not settled yet, read at scrape time",
      queue_in_flight.clone(),
    );
    let alerts = Family::<AlertLabels, Counter>::default();
    registry.register("alerts", "Alerts raised: budget_alert, budget_exhausted, spike", alerts.clone());
    let budget_used = Family::<WorkerLabel, Gauge<f64, std::sync::atomic::AtomicU64>>::default();
    registry.register(
      "cpu_budget_used_ratio",
      "Share of a worker's daily CPU budget used today, all nodes together (read every few seconds)",
      budget_used.clone(),
    );
    let connections = ConnectionMetrics::default();
    connections.register(&mut registry);
    let sockets = SocketMetrics::default();
    sockets.register(&mut registry);
    Metrics {
      registry,
      alerts,
      budget_used,
      cold_ratio,
      queue_messages,
      queue_backlog,
      queue_in_flight,
      connections,
      sockets,
      requests,
      cold_starts,
      tls_prestarts,
      coalesced,
      scale_outs,
      warm_hits,
      evictions,
      terminations,
      duration,
      cpu,
      resident,
      cached_workers,
      cache_weight,
      pool_ready,
      pool_warming,
      pool_target,
      pool_starts,
      pool_failures,
      host_deaths,
      memory,
      isolates_created,
      isolates_dropped,
      leaked,
      resident_count: AtomicI64::new(0),
      recent: crate::observe::stats::Stats::default(),
    }
  }

  /// The workers' WebSockets.
  pub fn sockets(&self) -> &SocketMetrics {
    &self.sockets
  }

  /// The listeners' connection counts.
  pub fn connections(&self) -> &ConnectionMetrics {
    &self.connections
  }

  fn worker(name: &str) -> WorkerLabel {
    WorkerLabel { worker: name.to_owned() }
  }

  /// One answered request; `cpu` and `start` are `None` when no worker ran.
  pub fn request(
    &self,
    worker: &str,
    status: u16,
    duration: Duration,
    cpu: Option<Duration>,
    start: Option<StartKind>,
  ) {
    self.requests.get_or_create(&StatusLabels { worker: worker.to_owned(), status }).inc();
    if worker != "-" {
      self.duration.get_or_create(&Self::worker(worker)).observe(duration.as_secs_f64());
      self.recent.request(worker, status, duration, cpu, start);
    }
    if let Some(cpu) = cpu {
      self.cpu.get_or_create(&Self::worker(worker)).observe(cpu.as_secs_f64());
    }
  }

  pub fn start(&self, worker: &str, kind: StartKind) {
    let family = match kind {
      StartKind::Cold => &self.cold_starts,
      StartKind::Coalesced => &self.coalesced,
      StartKind::ScaleOut => &self.scale_outs,
      StartKind::Warm => &self.warm_hits,
    };
    family.get_or_create(&Self::worker(worker)).inc();
  }

  /// A worker started, without a request, by the SNI name of a TLS handshake.
  pub fn tls_prestart(&self, worker: &str) {
    self.tls_prestarts.get_or_create(&Self::worker(worker)).inc();
  }

  pub fn alert(&self, worker: &str, kind: &'static str) {
    self.alerts.get_or_create(&AlertLabels { worker: worker.to_owned(), kind }).inc();
  }

  pub fn budget_used(&self, worker: &str, ratio: f64) {
    self.budget_used.get_or_create(&Self::worker(worker)).set(ratio);
  }

  pub fn eviction(&self, cause: &'static str) {
    self.evictions.get_or_create(&CauseLabel { cause }).inc();
  }

  pub fn termination(&self, worker: &str, reason: edge_runtime::Termination) {
    let reason = format!("{reason:?}");
    self.terminations.get_or_create(&ReasonLabels { worker: worker.to_owned(), reason }).inc();
    self.recent.termination(worker);
  }

  /// One settled batch of a queue consumer.
  pub fn queue_batch(&self, queue: &str, consumer: &str, acked: u64, retried: u64, dead_lettered: u64) {
    for (outcome, count) in [("acked", acked), ("retried", retried), ("dead_lettered", dead_lettered)] {
      if count > 0 {
        let labels = QueueOutcomeLabels { queue: queue.to_owned(), consumer: consumer.to_owned(), outcome };
        self.queue_messages.get_or_create(&labels).inc_by(count);
      }
    }
  }

  /// One consumer's backlog of one queue, as read now: messages not yet settled, and of
  /// those, delivered and not settled.
  pub fn queue_state(&self, queue: &str, consumer: &str, backlog: u64, in_flight: u64) {
    let labels = QueueLabels { queue: queue.to_owned(), consumer: consumer.to_owned() };
    self.queue_backlog.get_or_create(&labels).set(backlog as i64);
    self.queue_in_flight.get_or_create(&labels).set(in_flight as i64);
  }

  /// Each worker's recent figures.
  pub fn recent(&self) -> &crate::observe::stats::Stats {
    &self.recent
  }

  pub fn isolate_started(&self) {
    self.resident_count.fetch_add(1, Ordering::Relaxed);
  }

  pub fn isolate_stopped(&self) {
    self.resident_count.fetch_sub(1, Ordering::Relaxed);
  }

  /// The metrics as text, with the state gauges read now.
  pub fn encode(&self, state: &Scrape) -> String {
    self.resident.set(self.resident_count.load(Ordering::Relaxed));
    self.cached_workers.set(state.cached_workers as i64);
    self.cache_weight.set(state.cache_weight_kib as i64);
    let pool = &state.pool;
    self.pool_ready.set(pool.ready as i64);
    self.pool_warming.set(pool.warming as i64);
    self.pool_target.set(pool.target as i64);
    // The pool counts; the counters follow it.
    let follow = |counter: &Counter, total: u64| {
      counter.inc_by(total.saturating_sub(counter.get()));
    };
    follow(&self.pool_starts.get_or_create(&PoolResultLabel { result: "hit" }), pool.hits);
    follow(&self.pool_starts.get_or_create(&PoolResultLabel { result: "miss" }), pool.misses);
    follow(&self.pool_failures, pool.failures);
    follow(&self.host_deaths, state.host_deaths);
    let (memory, ceiling) = (&self.memory, &state.memory.ceiling);
    memory.limit.set(ceiling.limit_bytes as i64);
    memory.granted.set(ceiling.granted_bytes as i64);
    memory.isolates.set(ceiling.isolates as i64);
    memory.resident.set(state.memory.resident_bytes as i64);
    follow(&memory.refused, ceiling.refused_starts);
    follow(&memory.stopped, ceiling.stopped_isolates);
    let runtime = &state.runtime;
    self.isolates_created.set(runtime.isolates_created as i64);
    self.isolates_dropped.set(runtime.isolates_dropped as i64);
    self.leaked.set(runtime.leaked_bytes_estimate as i64);
    for figures in self.recent.figures() {
      let started = figures.cold + figures.warm;
      if started > 0 {
        self
          .cold_ratio
          .get_or_create(&Self::worker(&figures.worker))
          .set(figures.cold as f64 / started as f64);
      }
    }
    let mut text = String::new();
    if let Err(e) = prometheus_client::encoding::text::encode(&mut text, &self.registry) {
      tracing::error!("cannot encode metrics: {e}");
    }
    text
  }
}

/// The state read at scrape time from outside the metrics.
#[derive(Clone, Copy, Debug, Default)]
pub struct Scrape {
  pub cached_workers: u64,
  pub cache_weight_kib: u64,
  /// The pool of pre-warmed isolates: this process's, or its isolate hosts' added up.
  pub pool: edge_runtime::PoolStats,
  /// Runtime counters of this process and its isolate hosts.
  pub runtime: edge_runtime::RuntimeStats,
  /// Isolate hosts that died unasked so far.
  pub host_deaths: u64,
  /// The node's memory: its ceiling's ledger and the processes' resident memory.
  pub memory: NodeMemory,
}

/// The node's memory at scrape time.
#[derive(Clone, Copy, Debug, Default)]
pub struct NodeMemory {
  /// The memory ceiling's ledger (with isolate hosts, theirs added up).
  pub ceiling: edge_runtime::CeilingStats,
  /// Resident memory of the node's process and its isolate hosts, in bytes.
  pub resident_bytes: u64,
}

/// The gauges and counters of the node's memory ceiling.
struct MemoryMetrics {
  limit: Gauge,
  granted: Gauge,
  isolates: Gauge,
  resident: Gauge,
  refused: Counter,
  stopped: Counter,
}

impl MemoryMetrics {
  fn register(registry: &mut Registry) -> MemoryMetrics {
    let metrics = MemoryMetrics {
      limit: Gauge::default(),
      granted: Gauge::default(),
      isolates: Gauge::default(),
      resident: Gauge::default(),
      refused: Counter::default(),
      stopped: Counter::default(),
    };
    registry.register(
      "node_memory_limit_bytes",
      "The node's memory ceiling (node_memory_mb) over all its isolates",
      metrics.limit.clone(),
    );
    registry.register(
      "node_memory_granted_bytes",
      "Memory the isolates may hold now under their granted heap limits, together",
      metrics.granted.clone(),
    );
    registry.register(
      "node_memory_isolates",
      "Isolates holding a grant of the ceiling (prepared ones included)",
      metrics.isolates.clone(),
    );
    registry.register(
      "node_resident_memory_bytes",
      "Resident memory of the node's process and its isolate hosts",
      metrics.resident.clone(),
    );
    registry.register(
      "node_memory_refused_starts",
      "Isolate starts refused because the node was near its memory ceiling",
      metrics.refused.clone(),
    );
    registry.register(
      "node_memory_stopped_isolates",
      "Isolates stopped to keep the node under its memory ceiling",
      metrics.stopped.clone(),
    );
    metrics
  }
}

/// The resident memory of process `pid` (this one when `None`), in bytes, from `/proc`.
pub fn resident_bytes(pid: Option<u32>) -> Option<u64> {
  let path = match pid {
    None => "/proc/self/status".to_owned(),
    Some(pid) => format!("/proc/{pid}/status"),
  };
  let status = std::fs::read_to_string(path).ok()?;
  let line = status.lines().find(|line| line.starts_with("VmRSS:"))?;
  let kib: u64 = line.split_whitespace().nth(1)?.parse().ok()?;
  Some(kib * 1024)
}

/// How a request got its isolate.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum StartKind {
  /// It booted an isolate for a worker that had none.
  Cold,
  /// It waited for a boot another request had begun.
  Coalesced,
  /// All isolates were busy; it started another.
  ScaleOut,
  /// An isolate was resident and free.
  Warm,
}

impl StartKind {
  /// The name in `Server-Timing` and the log: a request that waited for a boot (its own or
  /// another's) was a cold one for its client.
  pub fn as_str(self) -> &'static str {
    match self {
      StartKind::Cold | StartKind::Coalesced | StartKind::ScaleOut => "cold",
      StartKind::Warm => "warm",
    }
  }
}
