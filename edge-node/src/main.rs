//! `edge`: the command line of the edge platform.
//!
//! Flags and environment variables are read here and nowhere else; everything below `main`
//! takes plain values.

use std::net::SocketAddr;
use std::path::PathBuf;
use std::process::ExitCode;

use clap::Parser;
use clap::Subcommand;

use anyhow::Context as _;
use edge_node::config::LogFormat;
use edge_node::config::NodeConfig;
use edge_node::config::TlsConfig;
use edge_node::dev;
use edge_node::tls::CertificateFiles;
use edge_runtime::Limits;

#[derive(Parser)]
#[command(name = "edge", version = VERSION, about = "An edge function runtime on isolates")]
struct Cli {
  #[command(subcommand)]
  command: Command,
}

#[derive(Subcommand)]
enum Command {
  /// Serve workers (folders, or single module files) over HTTP for local development.
  Dev {
    /// Each worker's folder (with an optional edge.toml) or its entry module. With several,
    /// the first label of the Host header picks one (hello.localhost:8787 → hello).
    #[arg(required = true)]
    paths: Vec<PathBuf>,
    /// Address to listen on; port 0 picks a free port (printed on start).
    #[arg(long, env = "EDGE_LISTEN", default_value = "127.0.0.1:8787")]
    listen: SocketAddr,
    /// Pre-warmed isolates kept ready, so that a cold start only evaluates the worker's module.
    #[arg(long, env = "EDGE_WARM_ISOLATES", default_value_t = 2)]
    warm_isolates: usize,
    /// The most isolates one worker may use when all of its isolates are busy
    /// (default: one per core).
    #[arg(long, env = "EDGE_ISOLATES_PER_WORKER")]
    isolates_per_worker: Option<usize>,
    /// Capacity of the warm-worker cache, in MiB of measured isolate memory; beyond it the
    /// least recently used worker is evicted.
    #[arg(long, env = "EDGE_CACHE_MB", default_value_t = NodeConfig::default().cache_mb)]
    cache_mb: u64,
    /// Evict a worker that got no request for this many seconds.
    #[arg(long, env = "EDGE_IDLE_TIMEOUT_SECS", default_value_t = NodeConfig::default().idle_timeout_secs)]
    idle_timeout_secs: u64,
    /// Run isolates in host processes, each retired (and its memory returned) after it has
    /// created this many isolates. Bounds the quickjs engine's leak per dropped isolate.
    #[arg(long, env = "EDGE_RECYCLE_HOSTS_AFTER")]
    recycle_hosts_after: Option<u64>,
    /// Reload a worker whenever one of its files changes (a broken edit is reported and the
    /// last good version keeps serving).
    #[arg(long)]
    watch: bool,
    /// Keep KV namespaces in this folder across runs (default: a temporary folder removed on
    /// exit).
    #[arg(long, value_name = "DIR")]
    persist_to: Option<PathBuf>,
    #[command(flatten)]
    limits: LimitFlags,
  },
  /// Serve every worker folder under a directory, routed by host (<worker>.<domain>) and by
  /// the route patterns of each worker's edge.toml.
  Node(Box<NodeFlags>),
  /// The front door of many nodes: sends each request to the nearest healthy edge node
  /// (router.toml lists them, or the cluster's registry), with failover and geo data for
  /// workers.
  Router {
    /// The router's config file (router.toml; edge-node/src/router/config.rs documents it).
    #[arg(long, env = "EDGE_ROUTER_CONFIG")]
    config: PathBuf,
    /// Overrides `listen`.
    #[arg(long, env = "EDGE_ROUTER_LISTEN")]
    listen: Option<std::net::SocketAddr>,
    /// Overrides `mode`.
    #[arg(long, env = "EDGE_ROUTER_MODE")]
    mode: Option<edge_node::router::config::Mode>,
    /// Overrides `otlp_endpoint`.
    #[arg(long, env = "OTEL_EXPORTER_OTLP_ENDPOINT")]
    otlp_endpoint: Option<String>,
  },
  /// Upload a worker folder (with its edge.toml) to a node, which starts it, stores it as a
  /// new version and serves it (in a cluster: every node serves it).
  Deploy {
    /// The worker's folder.
    dir: PathBuf,
    #[command(flatten)]
    target: TargetFlags,
    #[command(flatten)]
    wait: WaitFlags,
  },
  /// The workers deployed on a node: name, active version, URL.
  List {
    #[command(flatten)]
    target: TargetFlags,
  },
  /// A deployed worker's versions, the active one marked with `*`.
  Versions {
    name: String,
    #[command(flatten)]
    target: TargetFlags,
  },
  /// Serve an earlier version again: the one before the active one, or --to VERSION.
  Rollback {
    name: String,
    #[arg(long)]
    to: Option<String>,
    #[command(flatten)]
    target: TargetFlags,
    #[command(flatten)]
    wait: WaitFlags,
  },
  /// Read and write a KV namespace, through a node or in the cluster.
  Kv {
    #[command(subcommand)]
    action: KvAction,
  },
  /// A deployed worker's secrets: set (the value from stdin), list by name, delete. Sealed at
  /// rest by the node's key; never shown again.
  Secret {
    #[command(subcommand)]
    action: SecretAction,
  },
  /// Queues: list them with their consumers' backlog, send a message, peek at messages, read
  /// dead letters; through a node or in the cluster.
  Queues {
    #[command(subcommand)]
    action: QueuesAction,
  },
  /// Run a worker's scheduled handler now, on one node (its first cron, or --cron).
  Trigger {
    name: String,
    /// The cron expression the handler sees (controller.cron).
    #[arg(long)]
    cron: Option<String>,
    #[command(flatten)]
    target: TargetFlags,
  },
  /// Follow a worker's requests, console output, exceptions and limit terminations live, on
  /// one node (--node) or every node of a cluster (--cluster).
  Tail {
    name: String,
    /// `pretty` for people, `json` for one JSON object per line.
    #[arg(long, value_enum, default_value = "pretty")]
    format: TailFormat,
    #[command(flatten)]
    target: TargetFlags,
  },
  /// What a worker used, per version and in total: requests, CPU and wall milliseconds, peak
  /// memory, egress bytes, subrequests, errors (a cluster's nodes together).
  Usage {
    name: String,
    /// From when: an RFC 3339 time, or a span back from now (90m, 24h, 7d). Default 24h.
    #[arg(long)]
    since: Option<String>,
    /// Print the JSON report.
    #[arg(long)]
    json: bool,
    #[command(flatten)]
    target: TargetFlags,
  },
  /// Which node serves which version of a deployed worker, right now.
  Status {
    name: String,
    #[command(flatten)]
    target: TargetFlags,
  },
  /// Stop serving a deployed worker and delete all its versions.
  Delete {
    name: String,
    #[command(flatten)]
    target: TargetFlags,
  },
  /// Measure a worker's cold starts (pre-warmed pool) and warm requests in this process, and
  /// print their phases as percentiles, with the memory one resident isolate costs.
  Bench {
    /// The worker's folder (with an optional edge.toml) or its entry module.
    path: PathBuf,
    /// Cold starts to make (each isolate stays resident until the end).
    #[arg(long, default_value_t = 100)]
    cold: usize,
    /// Warm requests to make.
    #[arg(long, default_value_t = 1000)]
    warm: usize,
    /// The path each request asks for.
    #[arg(long, default_value = "/")]
    request_path: String,
    /// Print the report as JSON (for scripts).
    #[arg(long)]
    json: bool,
    /// Also draw the cold and warm latency distributions into this SVG file.
    #[arg(long, value_name = "FILE.svg")]
    chart: Option<PathBuf>,
  },
  /// Runs isolates for a node over a Unix socket (started by the node itself).
  #[command(hide = true)]
  IsolateHost {
    #[arg(long)]
    socket: PathBuf,
    #[arg(long, default_value_t = 2)]
    warm_isolates: usize,
    #[arg(long, default_value_t = Limits::default().memory_mb)]
    memory_mb: u64,
  },
}

/// `edge kv ...`.
/// How `edge tail` prints events.
#[derive(Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
enum TailFormat {
  Pretty,
  Json,
}

#[derive(clap::Subcommand)]
enum KvAction {
  /// Print a key's value (as it is, without a newline).
  Get {
    namespace: String,
    key: String,
    #[command(flatten)]
    target: TargetFlags,
  },
  /// Set a key's value.
  Put {
    namespace: String,
    key: String,
    value: String,
    /// Expire the key after this many seconds.
    #[arg(long)]
    ttl: Option<u64>,
    #[command(flatten)]
    target: TargetFlags,
  },
  /// Print the keys, one per line.
  List {
    namespace: String,
    /// Only keys that start with this.
    #[arg(long)]
    prefix: Option<String>,
    #[command(flatten)]
    target: TargetFlags,
  },
  /// Remove a key.
  Delete {
    namespace: String,
    key: String,
    #[command(flatten)]
    target: TargetFlags,
  },
}

#[derive(clap::Subcommand)]
enum SecretAction {
  /// Set a secret; its value is read from stdin.
  Put {
    worker: String,
    name: String,
    #[command(flatten)]
    target: TargetFlags,
  },
  /// The names of a worker's secrets and when each was set.
  List {
    worker: String,
    #[command(flatten)]
    target: TargetFlags,
  },
  /// Remove a secret.
  Delete {
    worker: String,
    name: String,
    #[command(flatten)]
    target: TargetFlags,
  },
}

impl SecretAction {
  fn split(self) -> (edge_node::secrets::cli::SecretCall, TargetFlags) {
    use edge_node::secrets::cli::SecretCall;
    match self {
      SecretAction::Put { worker, name, target } => (SecretCall::Put { worker, name }, target),
      SecretAction::List { worker, target } => (SecretCall::List { worker }, target),
      SecretAction::Delete { worker, name, target } => (SecretCall::Delete { worker, name }, target),
    }
  }
}

#[derive(clap::Subcommand)]
enum QueuesAction {
  /// Every queue: messages kept, and each consumer's backlog and messages in flight.
  List {
    #[command(flatten)]
    target: TargetFlags,
  },
  /// Send one message (stored durably before this returns).
  Send {
    queue: String,
    /// The body: JSON (the default content type) or text.
    body: String,
    /// `json` or `text`.
    #[arg(long, default_value = "json", value_parser = ["json", "text"])]
    content_type: String,
    #[command(flatten)]
    target: TargetFlags,
  },
  /// The newest messages the queue keeps, oldest first, without consuming them.
  Peek {
    queue: String,
    #[arg(long, default_value_t = 20)]
    count: usize,
    #[command(flatten)]
    target: TargetFlags,
  },
  /// The dead letters in a dead-letter queue, with the queue they came from and their error.
  Dlq {
    queue: String,
    #[arg(long, default_value_t = 100)]
    count: usize,
    #[command(flatten)]
    target: TargetFlags,
  },
}

impl QueuesAction {
  fn split(self) -> (edge_node::queues::cli::QueueCall, TargetFlags) {
    use edge_node::queues::cli::QueueCall;
    match self {
      QueuesAction::List { target } => (QueueCall::List, target),
      QueuesAction::Send { queue, body, content_type, target } => {
        (QueueCall::Send { queue, body, content_type }, target)
      }
      QueuesAction::Peek { queue, count, target } => (QueueCall::Peek { queue, count }, target),
      QueuesAction::Dlq { queue, count, target } => (QueueCall::DeadLetters { queue, count }, target),
    }
  }
}

impl KvAction {
  fn split(self) -> (edge_node::client::KvCall, TargetFlags) {
    use edge_node::client::KvCall;
    match self {
      KvAction::Get { namespace, key, target } => (KvCall::Get { namespace, key }, target),
      KvAction::Put { namespace, key, value, ttl, target } => {
        (KvCall::Put { namespace, key, value, ttl }, target)
      }
      KvAction::List { namespace, prefix, target } => (KvCall::List { namespace, prefix }, target),
      KvAction::Delete { namespace, key, target } => (KvCall::Delete { namespace, key }, target),
    }
  }
}

/// Which node's deploy API a command talks to, or which cluster.
#[derive(clap::Args)]
struct TargetFlags {
  /// A node's admin listener [default: http://127.0.0.1:8788].
  #[arg(long, env = "EDGE_NODE", conflicts_with = "cluster")]
  node: Option<String>,
  /// The node's admin token (with --node).
  #[arg(long, env = "EDGE_TOKEN", hide_env_values = true)]
  token: Option<String>,
  /// A cluster's NATS server, nats://[user:password@]host:port: the command goes to the
  /// cluster itself, not through a node.
  #[arg(long, env = "EDGE_CLUSTER")]
  cluster: Option<String>,
}

impl TryFrom<TargetFlags> for edge_node::client::Target {
  type Error = anyhow::Error;
  fn try_from(flags: TargetFlags) -> anyhow::Result<Self> {
    use edge_node::client::Target;
    match (flags.cluster, flags.node, flags.token) {
      (Some(url), _, _) => Ok(Target::Cluster { url }),
      (None, node, Some(token)) => {
        Ok(Target::Node { url: node.unwrap_or_else(|| "http://127.0.0.1:8788".into()), token })
      }
      (None, _, None) => anyhow::bail!("a node's deploy API needs its token: --token or EDGE_TOKEN"),
    }
  }
}

/// `--wait`: return once every live node serves the new version.
#[derive(clap::Args)]
struct WaitFlags {
  /// Wait until every live node serves the version (exit code 3 if the time runs out).
  #[arg(long)]
  wait: bool,
  /// How long --wait waits, in seconds.
  #[arg(long, default_value_t = 60.0, value_name = "SECONDS")]
  wait_timeout: f64,
}

impl WaitFlags {
  fn wait(&self) -> anyhow::Result<edge_node::client::Wait> {
    if !self.wait_timeout.is_finite() || !(0.0..=600.0).contains(&self.wait_timeout) {
      anyhow::bail!("--wait-timeout: seconds, 0 to 600");
    }
    Ok(edge_node::client::Wait(self.wait.then(|| std::time::Duration::from_secs_f64(self.wait_timeout))))
  }
}

/// `edge node`: a config file, and a flag (and an `EDGE_*` variable) for every setting in it,
/// which overrides the file. See `edge-node/src/config.rs` for what each setting means.
#[derive(clap::Args)]
struct NodeFlags {
  /// The node's config file (node.toml); every setting has a default.
  #[arg(long, env = "EDGE_CONFIG")]
  config: Option<PathBuf>,
  /// Overrides `listen`.
  #[arg(long, env = "EDGE_LISTEN")]
  listen: Option<SocketAddr>,
  /// Overrides `admin_listen`.
  #[arg(long, env = "EDGE_ADMIN_LISTEN")]
  admin_listen: Option<SocketAddr>,
  /// Overrides `tls.listen` (then --tls-cert and --tls-key give the certificates).
  #[arg(long, env = "EDGE_TLS_LISTEN")]
  tls_listen: Option<SocketAddr>,
  /// Overrides `tls.certificates`: certificate chains (PEM), one per --tls-key, in order.
  #[arg(long, env = "EDGE_TLS_CERT", value_delimiter = ',')]
  tls_cert: Vec<PathBuf>,
  /// The private keys (PEM) of the --tls-cert certificates, in the same order.
  #[arg(long, env = "EDGE_TLS_KEY", value_delimiter = ',')]
  tls_key: Vec<PathBuf>,
  /// Overrides `domain`.
  #[arg(long, env = "EDGE_DOMAIN")]
  domain: Option<String>,
  /// Overrides `workers_dir`.
  #[arg(long, env = "EDGE_WORKERS_DIR")]
  workers_dir: Option<PathBuf>,
  /// Overrides `warm_isolates`.
  #[arg(long, env = "EDGE_WARM_ISOLATES")]
  warm_isolates: Option<usize>,
  /// Overrides `isolates_per_worker`.
  #[arg(long, env = "EDGE_ISOLATES_PER_WORKER")]
  isolates_per_worker: Option<usize>,
  /// Overrides `cache_mb`.
  #[arg(long, env = "EDGE_CACHE_MB")]
  cache_mb: Option<u64>,
  /// Overrides `idle_timeout_secs`.
  #[arg(long, env = "EDGE_IDLE_TIMEOUT_SECS")]
  idle_timeout_secs: Option<u64>,
  /// Overrides `recycle_hosts_after`.
  #[arg(long, env = "EDGE_RECYCLE_HOSTS_AFTER")]
  recycle_hosts_after: Option<u64>,
  /// Overrides `drain_timeout_secs`.
  #[arg(long, env = "EDGE_DRAIN_TIMEOUT_SECS")]
  drain_timeout_secs: Option<u64>,
  /// Overrides `log_format`.
  #[arg(long, env = "EDGE_LOG_FORMAT")]
  log_format: Option<LogFormat>,
  /// Overrides `data_dir`.
  #[arg(long, env = "EDGE_DATA_DIR")]
  data_dir: Option<PathBuf>,
  /// Overrides `admin_token`.
  #[arg(long, env = "EDGE_ADMIN_TOKEN", hide_env_values = true)]
  admin_token: Option<String>,
  /// Overrides `cluster` (NATS, nats://host:port).
  #[arg(long, env = "EDGE_CLUSTER")]
  cluster: Option<String>,
  /// Overrides `node_id`.
  #[arg(long, env = "EDGE_NODE_ID")]
  node_id: Option<String>,
  /// Overrides `location.region` (with --latitude and --longitude).
  #[arg(long, env = "EDGE_REGION", requires_all = ["latitude", "longitude"])]
  region: Option<String>,
  /// Overrides `location.latitude`.
  #[arg(long, env = "EDGE_LATITUDE", requires = "region", allow_negative_numbers = true)]
  latitude: Option<f64>,
  /// Overrides `location.longitude`.
  #[arg(long, env = "EDGE_LONGITUDE", requires = "region", allow_negative_numbers = true)]
  longitude: Option<f64>,
  /// Overrides `geo_key`.
  #[arg(long, env = "EDGE_GEO_KEY", hide_env_values = true)]
  geo_key: Option<String>,
  /// Overrides `secrets_key`: base64 keys, comma-separated, the first sealing.
  #[arg(long, env = "EDGE_SECRETS_KEY", hide_env_values = true)]
  secrets_key: Option<String>,
  /// Overrides `secrets_keys_file`.
  #[arg(long, env = "EDGE_SECRETS_KEYS_FILE")]
  secrets_keys_file: Option<PathBuf>,
  /// Overrides `tracing.otlp_endpoint`.
  #[arg(long, env = "OTEL_EXPORTER_OTLP_ENDPOINT")]
  otlp_endpoint: Option<String>,
  /// Overrides `alerts.webhook`.
  #[arg(long, env = "EDGE_ALERTS_WEBHOOK")]
  alerts_webhook: Option<String>,
  /// Overrides `cache_api_mb`.
  #[arg(long, env = "EDGE_CACHE_API_MB")]
  cache_api_mb: Option<u64>,
  /// Overrides `limits.cpu_ms`.
  #[arg(long, env = "EDGE_CPU_MS")]
  cpu_ms: Option<u64>,
  /// Overrides `limits.wall_ms`.
  #[arg(long, env = "EDGE_WALL_MS")]
  wall_ms: Option<u64>,
  /// Overrides `limits.memory_mb`.
  #[arg(long, env = "EDGE_MEMORY_MB")]
  memory_mb: Option<u64>,
  /// Overrides `limits.request_body_mb`.
  #[arg(long, env = "EDGE_REQUEST_BODY_MB")]
  request_body_mb: Option<u64>,
  /// Overrides `limits.subrequests`.
  #[arg(long, env = "EDGE_SUBREQUESTS")]
  subrequests: Option<u32>,
  /// Overrides `limits.startup_cpu_ms`.
  #[arg(long, env = "EDGE_STARTUP_CPU_MS")]
  startup_cpu_ms: Option<u64>,
}

impl NodeFlags {
  /// The config file (or the defaults) with the flags applied.
  fn resolve(self) -> anyhow::Result<NodeConfig> {
    let mut c = match &self.config {
      Some(path) => NodeConfig::load(path)?,
      None => NodeConfig::default(),
    };
    fn set<T>(field: &mut T, flag: Option<T>) {
      if let Some(value) = flag {
        *field = value;
      }
    }
    set(&mut c.listen, self.listen);
    set(&mut c.admin_listen, self.admin_listen);
    set(&mut c.domain, self.domain);
    c.workers_dir = self.workers_dir.or(c.workers_dir);
    set(&mut c.warm_isolates, self.warm_isolates);
    c.isolates_per_worker = self.isolates_per_worker.or(c.isolates_per_worker);
    set(&mut c.cache_mb, self.cache_mb);
    set(&mut c.idle_timeout_secs, self.idle_timeout_secs);
    c.recycle_hosts_after = self.recycle_hosts_after.or(c.recycle_hosts_after);
    set(&mut c.drain_timeout_secs, self.drain_timeout_secs);
    set(&mut c.log_format, self.log_format);
    c.data_dir = self.data_dir.or(c.data_dir);
    c.admin_token = self.admin_token.or(c.admin_token);
    c.cluster = self.cluster.or(c.cluster);
    c.node_id = self.node_id.or(c.node_id);
    if let (Some(region), Some(latitude), Some(longitude)) = (self.region, self.latitude, self.longitude) {
      c.location = Some(edge_node::config::NodePlace { region, latitude, longitude });
    }
    c.geo_key = self.geo_key.or(c.geo_key);
    set(&mut c.cache_api_mb, self.cache_api_mb);
    c.alerts.webhook = self.alerts_webhook.or(c.alerts.webhook);
    c.tracing.otlp_endpoint = self.otlp_endpoint.or(c.tracing.otlp_endpoint);
    if self.secrets_key.is_some() || self.secrets_keys_file.is_some() {
      c.secrets_key = self.secrets_key;
      c.secrets_keys_file = self.secrets_keys_file;
    }
    set(&mut c.limits.cpu_ms, self.cpu_ms);
    set(&mut c.limits.wall_ms, self.wall_ms);
    set(&mut c.limits.memory_mb, self.memory_mb);
    set(&mut c.limits.request_body_mb, self.request_body_mb);
    set(&mut c.limits.subrequests, self.subrequests);
    set(&mut c.limits.startup_cpu_ms, self.startup_cpu_ms);
    if self.tls_cert.len() != self.tls_key.len() {
      anyhow::bail!(
        "--tls-cert and --tls-key must come in pairs ({} certificates, {} keys)",
        self.tls_cert.len(),
        self.tls_key.len()
      );
    }
    if !self.tls_cert.is_empty() {
      let certificates = self
        .tls_cert
        .into_iter()
        .zip(self.tls_key)
        .map(|(cert, key)| CertificateFiles { cert, key })
        .collect();
      let listen = match (self.tls_listen, &c.tls) {
        (Some(listen), _) => listen,
        (None, Some(tls)) => tls.listen,
        (None, None) => anyhow::bail!("--tls-cert needs --tls-listen (or [tls] listen in the config)"),
      };
      c.tls = Some(TlsConfig { listen, certificates });
    } else if let Some(listen) = self.tls_listen {
      match &mut c.tls {
        Some(tls) => tls.listen = listen,
        None => {
          anyhow::bail!("--tls-listen needs certificates: --tls-cert and --tls-key, or [tls] in the config")
        }
      }
    }
    c.validate().map_err(anyhow::Error::msg).context("invalid configuration")?;
    Ok(c)
  }
}

/// Default limits of every worker; a worker's edge.toml `[limits]` overrides them.
#[derive(clap::Args)]
struct LimitFlags {
  /// CPU time per request, in milliseconds.
  #[arg(long, env = "EDGE_CPU_MS", default_value_t = Limits::default().cpu_ms)]
  cpu_ms: u64,
  /// Wall-clock time per request (until the response head), in milliseconds.
  #[arg(long, env = "EDGE_WALL_MS", default_value_t = Limits::default().wall_ms)]
  wall_ms: u64,
  /// Heap per isolate, in MiB.
  #[arg(long, env = "EDGE_MEMORY_MB", default_value_t = Limits::default().memory_mb)]
  memory_mb: u64,
  /// Request body size, in MiB.
  #[arg(long, env = "EDGE_REQUEST_BODY_MB", default_value_t = Limits::default().request_body_mb)]
  request_body_mb: u64,
  /// Outbound fetches per request.
  #[arg(long, env = "EDGE_SUBREQUESTS", default_value_t = Limits::default().subrequests)]
  subrequests: u32,
  /// CPU time for evaluating a worker's module at start-up, in milliseconds.
  #[arg(long, env = "EDGE_STARTUP_CPU_MS", default_value_t = Limits::default().startup_cpu_ms)]
  startup_cpu_ms: u64,
}

impl From<LimitFlags> for Limits {
  fn from(f: LimitFlags) -> Limits {
    Limits {
      cpu_ms: f.cpu_ms,
      wall_ms: f.wall_ms,
      memory_mb: f.memory_mb,
      request_body_mb: f.request_body_mb,
      subrequests: f.subrequests,
      startup_cpu_ms: f.startup_cpu_ms,
    }
  }
}

/// `edge --version`: the version and the JavaScript engine of this build.
#[cfg(feature = "quickjs")]
const VERSION: &str = concat!(env!("CARGO_PKG_VERSION"), " (engine: quickjs)");
#[cfg(not(feature = "quickjs"))]
const VERSION: &str = concat!(env!("CARGO_PKG_VERSION"), " (engine: v8)");

/// A command whose settings are resolved.
enum Resolved {
  Node(Box<NodeConfig>),
  Other(Box<Command>),
}

/// Logs go to stderr, filtered by `EDGE_LOG` (default `info`), as readable lines or JSON.
/// Logging to stderr; `EDGE_LOG` overrides `default` (the NATS client's own info lines are
/// left out by default).
fn init_logging(format: LogFormat, default: &str) {
  let filter = tracing_subscriber::EnvFilter::try_from_env("EDGE_LOG")
    .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new(format!("{default},async_nats=warn")));
  let builder = tracing_subscriber::fmt().with_env_filter(filter).with_writer(std::io::stderr);
  match format {
    LogFormat::Human => {
      let ansi = std::io::IsTerminal::is_terminal(&std::io::stderr());
      builder.with_ansi(ansi).init();
    }
    LogFormat::Json => builder.json().flatten_event(true).with_current_span(false).init(),
  }
}

fn main() -> ExitCode {
  edge_runtime::engine::configure_process();
  let cli = Cli::parse();
  // `edge node` reads its config before anything is logged: the log format is in it.
  let (command, log_format) = match cli.command {
    Command::Node(flags) => match flags.resolve() {
      Ok(config) => {
        let format = config.log_format;
        (Resolved::Node(Box::new(config)), format)
      }
      Err(e) => {
        eprintln!("error: {e:#}");
        return ExitCode::FAILURE;
      }
    },
    other => (Resolved::Other(Box::new(other)), LogFormat::Human),
  };
  // Servers log what they do; the other commands print their results and log only trouble.
  let default_level = match &command {
    Resolved::Node(_) => "info",
    Resolved::Other(command) => match **command {
      Command::Dev { .. } | Command::Router { .. } | Command::IsolateHost { .. } => "info",
      _ => "warn",
    },
  };
  init_logging(log_format, default_level);

  let runtime = match tokio::runtime::Builder::new_multi_thread().enable_all().build() {
    Ok(rt) => rt,
    Err(e) => {
      eprintln!("error: cannot start the async runtime: {e}");
      return ExitCode::FAILURE;
    }
  };
  let result = runtime.block_on(async {
    let command = match command {
      Resolved::Node(config) => return edge_node::node::run(&config).await,
      Resolved::Other(command) => *command,
    };
    match command {
      Command::Dev {
        paths,
        listen,
        warm_isolates,
        isolates_per_worker,
        cache_mb,
        idle_timeout_secs,
        recycle_hosts_after,
        watch,
        persist_to,
        limits,
      } => {
        let limits: Limits = limits.into();
        let isolates_per_worker = isolates_per_worker.unwrap_or_else(edge_node::config::cores);
        // The same rules as a node's config.
        let check = NodeConfig {
          limits: limits.clone(),
          isolates_per_worker: Some(isolates_per_worker),
          cache_mb,
          idle_timeout_secs,
          ..NodeConfig::default()
        };
        check.validate().map_err(anyhow::Error::msg).context("invalid settings")?;
        let options = dev::ServeOptions {
          limits,
          warm_isolates,
          isolates_per_worker,
          cache_mb,
          idle_timeout: check.idle_timeout(),
          recycle_hosts_after,
          drain_timeout: check.drain_timeout(),
        };
        dev::run(&paths, listen, &options, &dev::DevSettings { watch, persist_to }).await
      }
      Command::Node(_) => unreachable!("resolved above"),
      Command::Router { config, listen, mode, otlp_endpoint } => {
        let mut config = edge_node::router::config::RouterConfig::load(&config)?;
        config.listen = listen.unwrap_or(config.listen);
        config.mode = mode.unwrap_or(config.mode);
        config.otlp_endpoint = otlp_endpoint.or(config.otlp_endpoint);
        edge_node::router::run(config).await
      }
      Command::Deploy { dir, target, wait } => {
        edge_node::client::deploy(&target.try_into()?, &dir, wait.wait()?).await
      }
      Command::List { target } => edge_node::client::list(&target.try_into()?).await,
      Command::Versions { name, target } => edge_node::client::versions(&target.try_into()?, &name).await,
      Command::Rollback { name, to, target, wait } => {
        edge_node::client::rollback(&target.try_into()?, &name, to.as_deref(), wait.wait()?).await
      }
      Command::Delete { name, target } => edge_node::client::delete(&target.try_into()?, &name).await,
      Command::Status { name, target } => edge_node::client::status(&target.try_into()?, &name).await,
      Command::Tail { name, format, target } => {
        edge_node::client::tail(&target.try_into()?, &name, format == TailFormat::Pretty).await
      }
      Command::Trigger { name, cron, target } => {
        edge_node::client::trigger(&target.try_into()?, &name, cron.as_deref()).await
      }
      Command::Kv { action } => {
        let (call, target) = action.split();
        edge_node::client::kv(&target.try_into()?, call).await
      }
      Command::Usage { name, since, json, target } => {
        edge_node::client::usage(&target.try_into()?, &name, since.as_deref(), json).await
      }
      Command::Secret { action } => {
        let (call, target) = action.split();
        edge_node::secrets::cli::run(&target.try_into()?, call).await
      }
      Command::Queues { action } => {
        let (call, target) = action.split();
        edge_node::queues::cli::run(&target.try_into()?, call).await
      }
      Command::Bench { path, cold, warm, request_path, json, chart } => {
        let options = edge_node::bench::BenchOptions { cold, warm, path: request_path, json, chart };
        edge_node::bench::run(&path, &options).await
      }
      Command::IsolateHost { socket, warm_isolates, memory_mb } => {
        edge_node::host::run(&socket, warm_isolates, memory_mb).await
      }
    }
  });
  match result {
    Ok(()) => ExitCode::SUCCESS,
    Err(e) => {
      eprintln!("error: {e:#}");
      if e.downcast_ref::<edge_node::client::WaitTimedOut>().is_some() {
        ExitCode::from(3)
      } else {
        ExitCode::FAILURE
      }
    }
  }
}
