//! The flag groups and subcommand actions the commands of [`args`](crate::cli::args) share:
//! the target of an admin call, waiting for a rollout, a node's flags (resolved with its
//! `node.toml` into a `NodeConfig`), the default limits, and the actions of `edge kv`,
//! `edge secret` and `edge queues`.

use std::net::SocketAddr;
use std::path::PathBuf;

use anyhow::Context as _;
use edge_runtime::Limits;

use crate::node::config::LogFormat;
use crate::node::config::NodeConfig;
use crate::node::config::TlsConfig;
use crate::serve::tls::CertificateFiles;

/// `edge kv ...`.
/// How `edge tail` prints events.
#[derive(Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum TailFormat {
  Pretty,
  Json,
}

#[derive(clap::Subcommand)]
pub enum KvAction {
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
pub enum SecretAction {
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
  pub fn split(self) -> (crate::cli::secrets::SecretCall, TargetFlags) {
    use crate::cli::secrets::SecretCall;
    match self {
      SecretAction::Put { worker, name, target } => (SecretCall::Put { worker, name }, target),
      SecretAction::List { worker, target } => (SecretCall::List { worker }, target),
      SecretAction::Delete { worker, name, target } => (SecretCall::Delete { worker, name }, target),
    }
  }
}

#[derive(clap::Subcommand)]
pub enum QueuesAction {
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
  pub fn split(self) -> (crate::cli::queues::QueueCall, TargetFlags) {
    use crate::cli::queues::QueueCall;
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
  pub fn split(self) -> (crate::cli::kv::KvCall, TargetFlags) {
    use crate::cli::kv::KvCall;
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
pub struct TargetFlags {
  /// A node's admin listener [default: http://127.0.0.1:8788].
  #[arg(long, env = "EDGE_NODE", conflicts_with = "cluster")]
  pub node: Option<String>,
  /// The node's admin token (with --node).
  #[arg(long, env = "EDGE_TOKEN", hide_env_values = true)]
  pub token: Option<String>,
  /// A cluster's NATS server, nats://[user:password@]host:port: the command goes to the
  /// cluster itself, not through a node.
  #[arg(long, env = "EDGE_CLUSTER")]
  pub cluster: Option<String>,
}

impl TryFrom<TargetFlags> for crate::cli::client::Target {
  type Error = anyhow::Error;
  fn try_from(flags: TargetFlags) -> anyhow::Result<Self> {
    use crate::cli::client::Target;
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
pub struct WaitFlags {
  /// Wait until every live node serves the version (exit code 3 if the time runs out).
  #[arg(long)]
  pub wait: bool,
  /// How long --wait waits, in seconds.
  #[arg(long, default_value_t = 60.0, value_name = "SECONDS")]
  pub wait_timeout: f64,
}

impl WaitFlags {
  pub fn wait(&self) -> anyhow::Result<crate::cli::client::Wait> {
    if !self.wait_timeout.is_finite() || !(0.0..=600.0).contains(&self.wait_timeout) {
      anyhow::bail!("--wait-timeout: seconds, 0 to 600");
    }
    Ok(crate::cli::client::Wait(self.wait.then(|| std::time::Duration::from_secs_f64(self.wait_timeout))))
  }
}

/// `edge node`: a config file, and a flag (and an `EDGE_*` variable) for every setting in it,
/// which overrides the file. See `edge-node/src/node/config.rs` for what each setting means.
#[derive(clap::Args)]
pub struct NodeFlags {
  /// The node's config file (node.toml); every setting has a default.
  #[arg(long, env = "EDGE_CONFIG")]
  pub config: Option<PathBuf>,
  /// Overrides `listen`.
  #[arg(long, env = "EDGE_LISTEN")]
  pub listen: Option<SocketAddr>,
  /// Overrides `admin_listen`.
  #[arg(long, env = "EDGE_ADMIN_LISTEN")]
  pub admin_listen: Option<SocketAddr>,
  /// Overrides `tls.listen` (then --tls-cert and --tls-key give the certificates).
  #[arg(long, env = "EDGE_TLS_LISTEN")]
  pub tls_listen: Option<SocketAddr>,
  /// Overrides `tls.certificates`: certificate chains (PEM), one per --tls-key, in order.
  #[arg(long, env = "EDGE_TLS_CERT", value_delimiter = ',')]
  pub tls_cert: Vec<PathBuf>,
  /// The private keys (PEM) of the --tls-cert certificates, in the same order.
  #[arg(long, env = "EDGE_TLS_KEY", value_delimiter = ',')]
  pub tls_key: Vec<PathBuf>,
  /// Overrides `domain`.
  #[arg(long, env = "EDGE_DOMAIN")]
  pub domain: Option<String>,
  /// Overrides `workers_dir`.
  #[arg(long, env = "EDGE_WORKERS_DIR")]
  pub workers_dir: Option<PathBuf>,
  /// Overrides `warm_isolates`.
  #[arg(long, env = "EDGE_WARM_ISOLATES")]
  pub warm_isolates: Option<usize>,
  /// Overrides `warm_isolates_max`.
  #[arg(long, env = "EDGE_WARM_ISOLATES_MAX")]
  pub warm_isolates_max: Option<usize>,
  /// Overrides `isolates_per_worker`.
  #[arg(long, env = "EDGE_ISOLATES_PER_WORKER")]
  pub isolates_per_worker: Option<usize>,
  /// Overrides `cache_mb`.
  #[arg(long, env = "EDGE_CACHE_MB")]
  pub cache_mb: Option<u64>,
  /// Overrides `idle_timeout_secs`.
  #[arg(long, env = "EDGE_IDLE_TIMEOUT_SECS")]
  pub idle_timeout_secs: Option<u64>,
  /// Overrides `node_memory_mb`.
  #[arg(long, env = "EDGE_NODE_MEMORY_MB")]
  pub node_memory_mb: Option<u64>,
  /// Overrides `recycle_hosts_after`.
  #[arg(long, env = "EDGE_RECYCLE_HOSTS_AFTER")]
  pub recycle_hosts_after: Option<u64>,
  /// Overrides `drain_timeout_secs`.
  #[arg(long, env = "EDGE_DRAIN_TIMEOUT_SECS")]
  pub drain_timeout_secs: Option<u64>,
  /// Overrides `log_format`.
  #[arg(long, env = "EDGE_LOG_FORMAT")]
  pub log_format: Option<LogFormat>,
  /// Overrides `data_dir`.
  #[arg(long, env = "EDGE_DATA_DIR")]
  pub data_dir: Option<PathBuf>,
  /// Overrides `admin_token`.
  #[arg(long, env = "EDGE_ADMIN_TOKEN", hide_env_values = true)]
  pub admin_token: Option<String>,
  /// Overrides `cluster` (NATS, nats://host:port).
  #[arg(long, env = "EDGE_CLUSTER")]
  pub cluster: Option<String>,
  /// Overrides `cluster_replicas` (copies of each stream and bucket, 3 for production).
  #[arg(long, env = "EDGE_CLUSTER_REPLICAS")]
  pub cluster_replicas: Option<usize>,
  /// Overrides `cluster_monitor` (nats-server's monitoring endpoint, http://host:8222).
  #[arg(long, env = "EDGE_CLUSTER_MONITOR")]
  pub cluster_monitor: Option<String>,
  /// Overrides `node_id`.
  #[arg(long, env = "EDGE_NODE_ID")]
  pub node_id: Option<String>,
  /// Overrides `location.region` (with --latitude and --longitude).
  #[arg(long, env = "EDGE_REGION", requires_all = ["latitude", "longitude"])]
  pub region: Option<String>,
  /// Overrides `location.latitude`.
  #[arg(long, env = "EDGE_LATITUDE", requires = "region", allow_negative_numbers = true)]
  pub latitude: Option<f64>,
  /// Overrides `location.longitude`.
  #[arg(long, env = "EDGE_LONGITUDE", requires = "region", allow_negative_numbers = true)]
  pub longitude: Option<f64>,
  /// Overrides `geo_key`.
  #[arg(long, env = "EDGE_GEO_KEY", hide_env_values = true)]
  pub geo_key: Option<String>,
  /// Overrides `secrets_key`: base64 keys, comma-separated, the first sealing.
  #[arg(long, env = "EDGE_SECRETS_KEY", hide_env_values = true)]
  pub secrets_key: Option<String>,
  /// Overrides `secrets_keys_file`.
  #[arg(long, env = "EDGE_SECRETS_KEYS_FILE")]
  pub secrets_keys_file: Option<PathBuf>,
  /// Overrides `tracing.otlp_endpoint`.
  #[arg(long, env = "OTEL_EXPORTER_OTLP_ENDPOINT")]
  pub otlp_endpoint: Option<String>,
  /// Overrides `alerts.webhook`.
  #[arg(long, env = "EDGE_ALERTS_WEBHOOK")]
  pub alerts_webhook: Option<String>,
  /// Overrides `trusted_roots`: PEM files, comma-separated.
  #[arg(long, env = "EDGE_TRUSTED_ROOTS", value_delimiter = ',')]
  pub trusted_roots: Vec<PathBuf>,
  /// Overrides `cache_api_mb`.
  #[arg(long, env = "EDGE_CACHE_API_MB")]
  pub cache_api_mb: Option<u64>,
  /// Overrides `limits.cpu_ms`.
  #[arg(long, env = "EDGE_CPU_MS")]
  pub cpu_ms: Option<u64>,
  /// Overrides `limits.wall_ms`.
  #[arg(long, env = "EDGE_WALL_MS")]
  pub wall_ms: Option<u64>,
  /// Overrides `limits.memory_mb`.
  #[arg(long, env = "EDGE_MEMORY_MB")]
  pub memory_mb: Option<u64>,
  /// Overrides `limits.request_body_mb`.
  #[arg(long, env = "EDGE_REQUEST_BODY_MB")]
  pub request_body_mb: Option<u64>,
  /// Overrides `limits.subrequests`.
  #[arg(long, env = "EDGE_SUBREQUESTS")]
  pub subrequests: Option<u32>,
  /// Overrides `limits.startup_cpu_ms`.
  #[arg(long, env = "EDGE_STARTUP_CPU_MS")]
  pub startup_cpu_ms: Option<u64>,
}

impl NodeFlags {
  /// The config file (or the defaults) with the flags applied.
  pub fn resolve(self) -> anyhow::Result<NodeConfig> {
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
    set(&mut c.warm_isolates_max, self.warm_isolates_max);
    c.isolates_per_worker = self.isolates_per_worker.or(c.isolates_per_worker);
    set(&mut c.cache_mb, self.cache_mb);
    set(&mut c.idle_timeout_secs, self.idle_timeout_secs);
    c.node_memory_mb = self.node_memory_mb.or(c.node_memory_mb);
    c.recycle_hosts_after = self.recycle_hosts_after.or(c.recycle_hosts_after);
    set(&mut c.drain_timeout_secs, self.drain_timeout_secs);
    set(&mut c.log_format, self.log_format);
    c.data_dir = self.data_dir.or(c.data_dir);
    c.admin_token = self.admin_token.or(c.admin_token);
    c.cluster = self.cluster.or(c.cluster);
    set(&mut c.cluster_replicas, self.cluster_replicas);
    c.cluster_monitor = self.cluster_monitor.or(c.cluster_monitor);
    c.node_id = self.node_id.or(c.node_id);
    if let (Some(region), Some(latitude), Some(longitude)) = (self.region, self.latitude, self.longitude) {
      c.location = Some(crate::node::config::NodePlace { region, latitude, longitude });
    }
    c.geo_key = self.geo_key.or(c.geo_key);
    set(&mut c.cache_api_mb, self.cache_api_mb);
    if !self.trusted_roots.is_empty() {
      c.trusted_roots = self.trusted_roots;
    }
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
pub struct LimitFlags {
  /// CPU time per request, in milliseconds.
  #[arg(long, env = "EDGE_CPU_MS", default_value_t = Limits::default().cpu_ms)]
  pub cpu_ms: u64,
  /// Wall-clock time per request (until the response head), in milliseconds.
  #[arg(long, env = "EDGE_WALL_MS", default_value_t = Limits::default().wall_ms)]
  pub wall_ms: u64,
  /// Heap per isolate, in MiB.
  #[arg(long, env = "EDGE_MEMORY_MB", default_value_t = Limits::default().memory_mb)]
  pub memory_mb: u64,
  /// Request body size, in MiB.
  #[arg(long, env = "EDGE_REQUEST_BODY_MB", default_value_t = Limits::default().request_body_mb)]
  pub request_body_mb: u64,
  /// Outbound fetches per request.
  #[arg(long, env = "EDGE_SUBREQUESTS", default_value_t = Limits::default().subrequests)]
  pub subrequests: u32,
  /// CPU time for evaluating a worker's module at start-up, in milliseconds.
  #[arg(long, env = "EDGE_STARTUP_CPU_MS", default_value_t = Limits::default().startup_cpu_ms)]
  pub startup_cpu_ms: u64,
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
      ..Limits::default()
    }
  }
}
