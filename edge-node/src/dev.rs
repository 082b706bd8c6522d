//! `edge dev`: serve workers from folders or files on this machine; and the serving loop it
//! shares with `edge node` ([`serve_workers`], configured by [`ServeOptions`]).

use std::net::SocketAddr;
use std::path::PathBuf;

use anyhow::Context as _;
use edge_runtime::IsolatePool;
use edge_runtime::Limits;
use tokio::net::TcpListener;

use crate::fleet::Fleet;
use crate::manifest;
use crate::server;
use crate::server::Workers;
use crate::slot::Runner;
use crate::slot::WorkerSlot;

/// How `edge dev` and `edge node` run workers.
#[derive(Clone, Debug)]
pub struct ServeOptions {
  /// Default limits; a worker's `edge.toml` may override them.
  pub limits: Limits,
  /// Pre-warmed isolates kept ready for cold starts.
  pub warm_isolates: usize,
  /// The most isolates one worker may use when all are busy.
  pub isolates_per_worker: usize,
  /// The most isolates of all workers together; the least recently used worker is evicted.
  pub max_resident: usize,
  /// Run isolates in host processes retired after creating this many isolates (bounds the
  /// quickjs engine's per-isolate leak); `None` runs them in this process.
  pub recycle_hosts_after: Option<u64>,
}

/// Loads the workers at `paths` and serves them on `listen` until Ctrl-C or SIGTERM.
pub async fn run(paths: &[PathBuf], listen: SocketAddr, options: &ServeOptions) -> anyhow::Result<()> {
  serve_workers("edge dev", paths, listen, options, None).await
}

/// Loads the workers at `paths` and serves them on `listen` until Ctrl-C or SIGTERM;
/// `domain` as in [`crate::routing::Router::new`]. Shared by `edge dev` and `edge node`.
pub async fn serve_workers(
  command: &str,
  paths: &[PathBuf],
  listen: SocketAddr,
  options: &ServeOptions,
  domain: Option<String>,
) -> anyhow::Result<()> {
  let limits = &options.limits;
  limits.validate().map_err(anyhow::Error::msg).context("invalid limits")?;
  let runner = match options.recycle_hosts_after {
    None => Runner::Pool(IsolatePool::new(options.warm_isolates, limits.memory_mb)),
    Some(after) => {
      let exe = std::env::current_exe().context("cannot find the edge binary for isolate hosts")?;
      Runner::Fleet(Fleet::new(exe, after, options.warm_isolates, limits.memory_mb)?)
    }
  };
  let mut slots = Vec::new();
  for path in paths {
    let loaded = manifest::load_worker(path, limits).context("cannot read the worker")?;
    if slots.iter().any(|s: &WorkerSlot| s.name() == loaded.bundle.name) {
      anyhow::bail!(
        "two workers are named {:?}; give one a different `name` in its edge.toml",
        loaded.bundle.name
      );
    }
    let slot =
      WorkerSlot::new(loaded, runner.clone(), edge_runtime::log_console(), options.isolates_per_worker);
    // Start each worker now, so that a broken one fails `edge dev` at once; beyond the
    // resident limit, stop it again.
    slot.handle().await.with_context(|| format!("cannot load worker {:?}", slot.name()))?;
    if slots.len() >= options.max_resident {
      slot.shutdown().await;
    }
    slots.push(slot);
  }
  let names: Vec<String> = slots.iter().map(|s| s.name().to_owned()).collect();
  let workers = Workers::new(slots, options.max_resident, domain.clone());
  let listener = TcpListener::bind(listen).await.with_context(|| format!("cannot listen on {listen}"))?;
  let address = listener.local_addr()?;
  // Scripts and tests read this line to learn the port (with --listen 127.0.0.1:0).
  if let Some(domain) = &domain {
    println!("{command}: serving {} workers on http://{address} (hosts: <worker>.{domain})", names.len());
  } else if let [name] = names.as_slice() {
    println!("{command}: serving worker {name} on http://{address}");
  } else {
    println!(
      "{command}: serving workers {} (by host: <name>.localhost) on http://{address}",
      names.join(", ")
    );
  }
  server::serve(listener, workers.clone(), shutdown_signal()).await;
  for slot in workers.iter() {
    slot.shutdown().await;
  }
  Ok(())
}
/// Resolves on Ctrl-C (SIGINT) or SIGTERM.
pub async fn shutdown_signal() {
  let ctrl_c = async {
    if let Err(e) = tokio::signal::ctrl_c().await {
      tracing::error!("cannot listen for Ctrl-C: {e}");
      std::future::pending::<()>().await;
    }
  };
  #[cfg(unix)]
  let terminate = async {
    match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
      Ok(mut signal) => {
        signal.recv().await;
      }
      Err(e) => {
        tracing::error!("cannot listen for SIGTERM: {e}");
        std::future::pending::<()>().await;
      }
    }
  };
  #[cfg(not(unix))]
  let terminate = std::future::pending::<()>();
  tokio::select! {
    () = ctrl_c => {},
    () = terminate => {},
  }
  tracing::info!("signal received");
}
