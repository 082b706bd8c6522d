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

#[derive(Parser)]
#[command(name = "edge", version = VERSION, about = "An edge function runtime on isolates")]
struct Cli {
  #[command(subcommand)]
  command: Command,
}

#[derive(Subcommand)]
enum Command {
  /// Serve one worker (a folder, or a single module file) over HTTP for local development.
  Dev {
    /// The worker's folder (with an optional edge.toml) or its entry module.
    path: PathBuf,
    /// Address to listen on; port 0 picks a free port (printed on start).
    #[arg(long, env = "EDGE_LISTEN", default_value = "127.0.0.1:8787")]
    listen: SocketAddr,
  },
}

/// `edge --version`: the version and the JavaScript engine of this build.
#[cfg(feature = "quickjs")]
const VERSION: &str = concat!(env!("CARGO_PKG_VERSION"), " (engine: quickjs)");
#[cfg(not(feature = "quickjs"))]
const VERSION: &str = concat!(env!("CARGO_PKG_VERSION"), " (engine: v8)");

fn main() -> ExitCode {
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
      Command::Dev { path, listen } => dev::run(&path, listen).await,
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
