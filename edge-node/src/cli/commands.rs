//! What each `edge` command runs: `edge node` reads its config before logging starts (the log
//! format is in it), the servers log at `info` and the other commands only trouble, and every
//! command runs on one multi-threaded tokio runtime.

use std::process::ExitCode;

use anyhow::Context as _;
use clap::Parser;

use crate::cli::args::Cli;
use crate::cli::args::Command;
use crate::cli::flags::*;
use crate::cli::logging::init_logging;
use crate::node::config::LogFormat;
use crate::node::config::NodeConfig;
use crate::node::dev;
use edge_runtime::Limits;

/// A command whose settings are resolved.
enum Resolved {
  Node(Box<NodeConfig>),
  Other(Box<Command>),
}

/// Runs the `edge` command line: what `main` does.
pub fn main() -> ExitCode {
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
      Resolved::Node(config) => return crate::node::run::run(&config).await,
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
        node_memory_mb,
        recycle_hosts_after,
        watch,
        persist_to,
        environment,
        trusted_roots,
        limits,
      } => {
        let limits: Limits = limits.into();
        let isolates_per_worker = isolates_per_worker.unwrap_or_else(crate::node::config::cores);
        // The same rules as a node's config.
        let check = NodeConfig {
          limits: limits.clone(),
          isolates_per_worker: Some(isolates_per_worker),
          cache_mb,
          idle_timeout_secs,
          node_memory_mb,
          ..NodeConfig::default()
        };
        check.validate().map_err(anyhow::Error::msg).context("invalid settings")?;
        let options = crate::node::start::ServeOptions {
          limits,
          warm_isolates,
          // A development server sees no bursts of new workers.
          warm_isolates_max: warm_isolates,
          isolates_per_worker,
          cache_mb,
          node_memory_mb: check.node_memory_mb(),
          idle_timeout: check.idle_timeout(),
          recycle_hosts_after,
          drain_timeout: check.drain_timeout(),
          trusted_roots,
        };
        dev::run(&paths, listen, &options, &dev::DevSettings { watch, persist_to, environment }).await
      }
      Command::Node(_) => unreachable!("resolved above"),
      Command::Router { config, listen, mode, otlp_endpoint } => {
        let mut config = crate::router::config::RouterConfig::load(&config)?;
        config.listen = listen.unwrap_or(config.listen);
        config.mode = mode.unwrap_or(config.mode);
        config.otlp_endpoint = otlp_endpoint.or(config.otlp_endpoint);
        crate::router::run(config).await
      }
      Command::Deploy { dir, environment, target, wait } => {
        crate::cli::client::deploy(&target.try_into()?, &dir, environment.as_deref(), wait.wait()?).await
      }
      Command::List { target } => crate::cli::client::list(&target.try_into()?).await,
      Command::Versions { name, target } => crate::cli::client::versions(&target.try_into()?, &name).await,
      Command::Rollback { name, to, target, wait } => {
        crate::cli::client::rollback(&target.try_into()?, &name, to.as_deref(), wait.wait()?).await
      }
      Command::Delete { name, target } => crate::cli::client::delete(&target.try_into()?, &name).await,
      Command::Status { name, target } => crate::cli::client::status(&target.try_into()?, &name).await,
      Command::Tail { name, format, target } => {
        crate::cli::tail::tail(&target.try_into()?, &name, format == TailFormat::Pretty).await
      }
      Command::Trigger { name, cron, target } => {
        crate::cli::client::trigger(&target.try_into()?, &name, cron.as_deref()).await
      }
      Command::Kv { action } => {
        let (call, target) = action.split();
        crate::cli::kv::kv(&target.try_into()?, call).await
      }
      Command::Usage { name, since, json, target } => {
        crate::cli::tail::usage(&target.try_into()?, &name, since.as_deref(), json).await
      }
      Command::Secret { action } => {
        let (call, target) = action.split();
        crate::cli::secrets::run(&target.try_into()?, call).await
      }
      Command::Queues { action } => {
        let (call, target) = action.split();
        crate::cli::queues::run(&target.try_into()?, call).await
      }
      Command::Bench { path, through_node: true, workers, spacing_ms, request_path, json, .. } => {
        let options = crate::cli::bench_node::NodeBenchOptions {
          workers,
          spacing: std::time::Duration::from_millis(spacing_ms),
          path: request_path,
          json,
        };
        crate::cli::bench_node::run(&path, &options).await
      }
      Command::Bench { path, cold, warm, request_path, json, chart, .. } => {
        let options = crate::cli::bench::BenchOptions { cold, warm, path: request_path, json, chart };
        crate::cli::bench::run(&path, &options).await
      }
      Command::IsolateHost { socket, warm_isolates, memory_mb, ceiling_bytes, trusted_roots } => {
        crate::node::start::trust_roots(&trusted_roots)?;
        crate::isolates::host::run(&socket, warm_isolates, memory_mb, ceiling_bytes).await
      }
    }
  });
  match result {
    Ok(()) => ExitCode::SUCCESS,
    Err(e) => {
      eprintln!("error: {e:#}");
      if e.downcast_ref::<crate::cli::client::WaitTimedOut>().is_some() {
        ExitCode::from(3)
      } else {
        ExitCode::FAILURE
      }
    }
  }
}
