//! The `edge` command and its subcommands, as clap reads them: the only place flags and
//! environment variables are read ([`flags`] holds the flag groups and actions they share).

use std::net::SocketAddr;
use std::path::PathBuf;

use clap::Parser;
use clap::Subcommand;

use crate::cli::flags::*;
use crate::node::config::NodeConfig;
use edge_runtime::Limits;

#[derive(Parser)]
#[command(name = "edge", version = VERSION, about = "An edge function runtime on isolates")]
pub struct Cli {
  #[command(subcommand)]
  pub command: Command,
}

#[derive(Subcommand)]
pub enum Command {
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
    /// The ceiling over all isolates' memory, in MiB: near it new isolates are refused with
    /// 503, and the largest over their fair share are stopped first (default: 80% of the
    /// machine's memory).
    #[arg(long, env = "EDGE_NODE_MEMORY_MB")]
    node_memory_mb: Option<u64>,
    /// Run isolates in host processes, each retired (and its memory returned) after it has
    /// created this many isolates. Bounds the quickjs engine's leak per dropped isolate.
    #[arg(long, env = "EDGE_RECYCLE_HOSTS_AFTER")]
    recycle_hosts_after: Option<u64>,
    /// Reload a worker whenever one of its files changes (a broken edit is reported and the
    /// last good version keeps serving).
    #[arg(long)]
    watch: bool,
    /// Keep KV namespaces and queues in this folder across runs (default: in memory, for
    /// this run only).
    #[arg(long, value_name = "DIR")]
    persist_to: Option<PathBuf>,
    /// The environment of a wrangler configuration to serve ([env.<NAME>] in wrangler.toml,
    /// wrangler.json or wrangler.jsonc), as `wrangler dev --env`.
    #[arg(long = "env", value_name = "NAME")]
    environment: Option<String>,
    /// PEM files of root certificates outbound TLS (`fetch`, `wss:`, `connect()`) trusts
    /// besides webpki's, comma-separated: a private CA, or the system's bundle.
    #[arg(long, env = "EDGE_TRUSTED_ROOTS", value_delimiter = ',', value_name = "PEM")]
    trusted_roots: Vec<PathBuf>,
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
    mode: Option<crate::router::config::Mode>,
    /// Overrides `otlp_endpoint`.
    #[arg(long, env = "OTEL_EXPORTER_OTLP_ENDPOINT")]
    otlp_endpoint: Option<String>,
  },
  /// Upload a worker folder (with its edge.toml) to a node, which starts it, stores it as a
  /// new version and serves it (in a cluster: every node serves it).
  Deploy {
    /// The worker's folder.
    dir: PathBuf,
    /// The environment of a wrangler configuration to deploy ([env.<NAME>]), as
    /// `wrangler deploy --env`.
    #[arg(long = "env", value_name = "NAME")]
    environment: Option<String>,
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
    /// Measure through a node's listener instead, as a client sees it: copy the worker
    /// `--workers` times, serve the copies from an `edge node` process, and once its pool is
    /// full ask each once (cold) and again (warm) over loopback HTTP.
    #[arg(long, conflicts_with_all = ["cold", "warm", "chart"])]
    through_node: bool,
    /// With --through-node: how many new workers to ask.
    #[arg(long, default_value_t = 100, requires = "through_node")]
    workers: usize,
    /// With --through-node: milliseconds between two first requests (0: back to back).
    #[arg(long, default_value_t = 0, requires = "through_node")]
    spacing_ms: u64,
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
    /// The ceiling over this host's isolates, in bytes: its first share of the node's
    /// ceiling (the node moves it later).
    #[arg(long)]
    ceiling_bytes: Option<u64>,
    /// PEM files of further roots outbound TLS trusts (the node's `trusted_roots`).
    #[arg(long, value_delimiter = ',')]
    trusted_roots: Vec<PathBuf>,
  },
}

/// `edge --version`: the version and the JavaScript engine of this build.
#[cfg(feature = "quickjs")]
pub const VERSION: &str = concat!(env!("CARGO_PKG_VERSION"), " (engine: quickjs)");
#[cfg(not(feature = "quickjs"))]
pub const VERSION: &str = concat!(env!("CARGO_PKG_VERSION"), " (engine: v8)");
