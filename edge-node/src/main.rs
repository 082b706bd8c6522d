//! `edge`: the command line of the edge platform.
//!
//! Flags and environment variables are read here and nowhere else; everything below `main`
//! takes plain values.

use std::net::SocketAddr;
use std::path::PathBuf;
use std::process::ExitCode;

use clap::Parser;
use clap::Subcommand;

use edge_node::dev;
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
    /// The most isolates of all workers together; beyond it the least recently used worker
    /// is evicted.
    #[arg(long, env = "EDGE_MAX_RESIDENT", default_value_t = 1000)]
    max_resident: usize,
    /// Run isolates in host processes, each retired (and its memory returned) after it has
    /// created this many isolates. Bounds the quickjs engine's leak per dropped isolate.
    #[arg(long, env = "EDGE_RECYCLE_HOSTS_AFTER")]
    recycle_hosts_after: Option<u64>,
    #[command(flatten)]
    limits: LimitFlags,
  },
  /// Serve every worker folder under a directory, routed by host (<worker>.<domain>) and by
  /// the route patterns of each worker's edge.toml.
  Node {
    /// The node's config file (node.toml); every setting has a default.
    #[arg(long, env = "EDGE_CONFIG")]
    config: Option<PathBuf>,
    /// Overrides `listen`.
    #[arg(long, env = "EDGE_LISTEN")]
    listen: Option<SocketAddr>,
    /// Overrides `domain`.
    #[arg(long, env = "EDGE_DOMAIN")]
    domain: Option<String>,
    /// Overrides `workers_dir`.
    #[arg(long, env = "EDGE_WORKERS_DIR")]
    workers_dir: Option<PathBuf>,
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

fn main() -> ExitCode {
  edge_runtime::engine::configure_process();
  let cli = Cli::parse();
  let filter = tracing_subscriber::EnvFilter::try_from_env("EDGE_LOG")
    .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info"));
  let ansi = std::io::IsTerminal::is_terminal(&std::io::stderr());
  tracing_subscriber::fmt().with_env_filter(filter).with_ansi(ansi).with_writer(std::io::stderr).init();

  let runtime = match tokio::runtime::Builder::new_multi_thread().enable_all().build() {
    Ok(rt) => rt,
    Err(e) => {
      eprintln!("error: cannot start the async runtime: {e}");
      return ExitCode::FAILURE;
    }
  };
  let result = runtime.block_on(async {
    match cli.command {
      Command::Dev {
        paths,
        listen,
        warm_isolates,
        isolates_per_worker,
        max_resident,
        recycle_hosts_after,
        limits,
      } => {
        let cores = std::thread::available_parallelism().map_or(1, |n| n.get());
        let options = dev::ServeOptions {
          limits: limits.into(),
          warm_isolates,
          isolates_per_worker: isolates_per_worker.unwrap_or(cores),
          max_resident,
          recycle_hosts_after,
        };
        dev::run(&paths, listen, &options).await
      }
      Command::Node { config, listen, domain, workers_dir } => {
        let mut config = match config {
          Some(path) => edge_node::config::NodeConfig::load(&path)?,
          None => edge_node::config::NodeConfig::default(),
        };
        config.listen = listen.unwrap_or(config.listen);
        config.domain = domain.unwrap_or(config.domain);
        config.workers_dir = workers_dir.or(config.workers_dir);
        edge_node::node::run(&config).await
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
      ExitCode::FAILURE
    }
  }
}
