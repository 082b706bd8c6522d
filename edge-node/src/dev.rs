//! `edge dev`: serve one worker from a folder or file on this machine.

use std::net::SocketAddr;
use std::path::Path;

use anyhow::Context as _;
use edge_runtime::WorkerHandle;
use tokio::net::TcpListener;

use crate::manifest;
use crate::server;

/// Loads the worker at `path` and serves it on `listen` until Ctrl-C or SIGTERM.
pub async fn run(path: &Path, listen: SocketAddr) -> anyhow::Result<()> {
  let loaded = manifest::load_worker(path).context("cannot read the worker")?;
  let name = loaded.bundle.name.clone();
  let worker = WorkerHandle::start(loaded.bundle, loaded.options, edge_runtime::log_console())
    .await
    .with_context(|| format!("cannot load worker {name:?}"))?;
  let listener = TcpListener::bind(listen).await.with_context(|| format!("cannot listen on {listen}"))?;
  let address = listener.local_addr()?;
  // Scripts and tests read this line to learn the port (with --listen 127.0.0.1:0).
  println!("edge dev: serving worker {name} on http://{address}");
  server::serve(listener, worker.clone(), shutdown_signal()).await;
  if !worker.shutdown(server::DRAIN_TIMEOUT).await {
    tracing::warn!(worker = %name, "the worker's background work did not finish within {:?}", server::DRAIN_TIMEOUT);
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
