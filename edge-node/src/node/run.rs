//! `edge node`: the long-running server of an edge machine. It serves every worker folder
//! under its `workers_dir`, routed by `<worker>.<domain>` and by route patterns, on plain
//! TCP and TLS, with an admin listener for metrics and health. SIGHUP reloads the
//! certificates and the workers folder without dropping a connection.

use std::sync::Arc;

use anyhow::Context as _;
use tokio::net::TcpListener;

use crate::catalog;
use crate::catalog::routing::Router;
use crate::catalog::Deployment;
use crate::deploy::DeployApi;
use crate::node::admin::Admin;
use crate::node::config::NodeConfig;
use crate::node::start;
use crate::node::start::start_node;
use crate::node::start::Observers;
use crate::node::start::ServeOptions;
use crate::node::start::Stores;
use crate::serve::listen::shutdown_signal;
use crate::serve::listen::Listeners;
use crate::serve::tls::Certificates;
use crate::serve::Node;

/// Serves the workers of `config` until Ctrl-C or SIGTERM.
pub async fn run(config: &NodeConfig) -> anyhow::Result<()> {
  config.validate().map_err(anyhow::Error::msg).context("invalid configuration")?;
  let paths = match (&config.workers_dir, &config.data_dir) {
    (Some(dir), _) => {
      let paths = catalog::worker_folders(dir)?;
      if paths.is_empty() && config.data_dir.is_none() {
        anyhow::bail!("no workers to serve: {} has no worker folders", dir.display());
      }
      paths
    }
    (None, Some(_)) => Vec::new(),
    (None, None) => anyhow::bail!(
      "no workers to serve: set `workers_dir` (--workers-dir) to a folder of worker folders, or `data_dir` (--data-dir) with `admin_token` to deploy through the API"
    ),
  };
  let store = match &config.data_dir {
    Some(dir) => Some(crate::state::store::Store::open(dir).context("cannot open the data directory")?),
    None => None,
  };
  let certificates = match &config.tls {
    Some(tls) => {
      Some(Certificates::load(tls.certificates.clone()).context("cannot load the TLS certificates")?)
    }
    None => None,
  };
  let workers = catalog::load_all(&paths, |path| catalog::load_one(path, &config.limits))?;
  // KV namespaces and queues: in the cluster, in the data directory, or (with neither) in
  // memory for the life of the process.
  let cluster = config.cluster.as_ref().map(|_| Arc::new(tokio::sync::OnceCell::new()));
  let (kv, queues) = match &cluster {
    Some(cell) => (
      crate::platform::kv::KvStore::in_cluster(cell.clone()),
      crate::platform::queues::QueueStore::in_cluster(cell.clone()),
    ),
    None => (
      crate::platform::kv::KvStore::local(config.data_dir.as_deref())?,
      crate::platform::queues::QueueStore::local(config.data_dir.as_deref())?,
    ),
  };
  let stores = Stores { kv, queues, cache_api_bytes: config.cache_api_mb << 20 };
  let metrics = Arc::new(crate::observe::metrics::Metrics::new());
  let meter = Arc::new(match &cluster {
    Some(cell) => crate::observe::usage::Meter::in_cluster(cell.clone(), &config.node_id()),
    None => crate::observe::usage::Meter::local(config.data_dir.as_deref())?,
  });
  let tracing = crate::observe::trace::Tracing::new(
    config.tracing.otlp_endpoint.as_deref(),
    &config.tracing.service_name,
    &config.node_id(),
  )?;
  let alerts =
    Arc::new(crate::observe::alerts::Alerts::new(&config.node_id(), &config.alerts, metrics.clone()));
  let budgets = Arc::new(crate::observe::budget::Budgets::new(meter.clone(), alerts.clone()));
  let observers = Observers {
    metrics,
    tracing,
    geo_key: config.geo_key.as_ref().map(|key| key.as_bytes().to_vec()),
    meter: Some(meter.clone()),
    alerts: Some(alerts),
    budgets: Some(budgets.clone()),
  };
  // A node may hold thousands of workers: each boots on its first request.
  let serving = options(config);
  let isolates = start::Isolates::new(&serving)?;
  let node =
    start_node(&serving, isolates, workers, Some(config.domain.clone()), false, stores, observers).await?;
  tokio::spawn(meter.clone().run());
  let routes = node.clone();
  tokio::spawn(budgets.run(move |worker| routes.router().get(worker).and_then(|d| d.worker.budget.clone())));

  let http = bind(config.listen).await?;
  let admin = bind(config.admin_listen).await?;
  let mut deploy = None;
  if let Some(store) = store {
    let token = config.admin_token.as_deref().expect("validated: data_dir comes with admin_token");
    let keys = config.keyring().map_err(anyhow::Error::msg)?;
    let sealing = keys.is_some();
    let secrets = Arc::new(match &cluster {
      Some(cell) => {
        crate::platform::secrets::Secrets::in_cluster(cell.clone(), config.data_dir.as_deref(), keys)?
      }
      None => crate::platform::secrets::Secrets::local(config.data_dir.as_deref(), keys)?,
    });
    let api = DeployApi::new(
      store,
      token,
      config.limits.clone(),
      config.domain.clone(),
      http.local_addr()?.port(),
      config.node_id(),
      cluster.clone(),
    )
    .with_place(config.location.clone())
    .with_secrets(secrets.clone());
    // Everything deployed before is served again, as it was.
    let stored = api.stored_deployments().await.context("cannot restore the deployed workers")?;
    if sealing {
      tokio::spawn(reseal(secrets, cluster));
    }
    if !stored.is_empty() {
      let router = node.router();
      let mut deployments: Vec<_> = router
        .deployments()
        .iter()
        .filter(|d| !stored.iter().any(|s| s.name() == d.name()))
        .cloned()
        .collect();
      tracing::info!(workers = stored.len(), "restored the deployed workers");
      deployments.extend(stored);
      node.set_router(Router::new(deployments, router.domain()));
    }
    let api = Arc::new(api);
    deploy = Some(api.clone());

    if let Some(url) = &config.cluster {
      // What the data directory holds serves at once; the cluster's changes follow.
      let link = crate::deploy::ClusterLink {
        url: url.clone(),
        node_id: config.node_id(),
        replicas: config.cluster_replicas,
        monitor: config.cluster_monitor.clone(),
      };
      tokio::spawn(api.follow(node.clone(), link, format!("http://{}", http.local_addr()?)));
    }
  }
  let tls = match (&config.tls, &certificates) {
    (Some(tls), Some(certificates)) => {
      let listener = bind(tls.listen).await?;
      Some((listener, certificates.server_config()))
    }
    _ => None,
  };
  // Signal handlers go in before the node says it is up.
  let shutdown = shutdown_signal();
  let hangup = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::hangup());
  // Scripts and tests read these lines to learn the ports (with port 0); the first is the
  // worker listener.
  let count = node.router().deployments().len();
  // (The admin line names the deploy API when there is one.)
  println!(
    "edge node: serving {count} workers on http://{} (hosts: <worker>.{})",
    http.local_addr()?,
    config.domain
  );
  if let Some((listener, _)) = &tls {
    println!("edge node: TLS (h2, http/1.1) on https://{}", listener.local_addr()?);
  }
  let dashboard = config.admin_token.as_ref().map(|token| {
    crate::dashboard::Dashboard::new(token, &config.node_id(), config.cluster.is_some(), deploy.clone())
  });
  let api = match (&deploy, &config.cluster) {
    (Some(_), Some(_)) => ", deploy API /v1/ for the cluster",
    (Some(_), None) => ", deploy API /v1/",
    (None, _) => "",
  };
  let shown = if dashboard.is_some() { ", dashboard /dashboard" } else { "" };
  println!("edge node: admin (/metrics, /healthz, /readyz{api}{shown}) on http://{}", admin.local_addr()?);

  tokio::spawn(reload_on_hangup(hangup, node.clone(), deploy.clone(), config.clone(), certificates));
  let listeners = Listeners { http, tls, admin: Some(admin) };
  let admin = Admin { node: node.clone(), deploy: deploy.clone(), dashboard };
  start::serve(&node, listeners, admin, &config.connections, config.drain_timeout(), shutdown).await;
  if let Err(e) = meter.flush().await {
    tracing::warn!("usage: the last counts were not stored: {e}");
  }
  if let Some(api) = &deploy {
    api.leave().await;
  }
  // The exporter's batch thread sends what is left through this runtime: wait off it.
  let tracing = node.tracing().clone();
  let _ = tokio::task::spawn_blocking(move || tracing.shutdown()).await;
  node.cache().retire_all().await;
  Ok(())
}

fn options(config: &NodeConfig) -> ServeOptions {
  ServeOptions {
    limits: config.limits.clone(),
    warm_isolates: config.warm_isolates,
    warm_isolates_max: config.warm_isolates_max,
    isolates_per_worker: config.isolates_per_worker.unwrap_or_else(crate::node::config::cores),
    cache_mb: config.cache_mb,
    node_memory_mb: config.node_memory_mb(),
    idle_timeout: config.idle_timeout(),
    recycle_hosts_after: config.recycle_hosts_after,
    drain_timeout: config.drain_timeout(),
    trusted_roots: config.trusted_roots.clone(),
  }
}

async fn bind(address: std::net::SocketAddr) -> anyhow::Result<TcpListener> {
  TcpListener::bind(address).await.with_context(|| format!("cannot listen on {address}"))
}

/// On every SIGHUP: reload the certificates, then the workers folder.
async fn reload_on_hangup(
  hangup: std::io::Result<tokio::signal::unix::Signal>,
  node: Arc<Node>,
  deploy: Option<Arc<DeployApi>>,
  config: NodeConfig,
  certificates: Option<Arc<Certificates>>,
) {
  let mut hangup = match hangup {
    Ok(signal) => signal,
    Err(e) => {
      tracing::error!("cannot listen for SIGHUP; reloading is off: {e}");
      return;
    }
  };
  while hangup.recv().await.is_some() {
    if let (Some(_), Some(api)) = (&config.secrets_keys_file, &deploy) {
      match config.keyring() {
        Ok(Some(keys)) => {
          tracing::info!(sealing_key = keys.current(), "read the secrets keys again");
          api.secrets().set_keys(keys);
          tokio::spawn(reseal(api.secrets().clone(), None));
        }
        Ok(None) => {}
        Err(e) => tracing::error!("kept the current secrets keys: {e}"),
      }
    }
    if let Some(certificates) = &certificates {
      match certificates.reload() {
        Ok(count) => tracing::info!(count, "reloaded the TLS certificates"),
        Err(e) => tracing::error!("kept the current TLS certificates: {e}"),
      }
    }
    if let Some(dir) = &config.workers_dir {
      reload_workers(&node, dir, &config).await;
    }
  }
}

/// Seals every secret not under the first key again (after the keys changed), once the
/// cluster, if any, is connected; the node serves on meanwhile.
async fn reseal(
  secrets: Arc<crate::platform::secrets::Secrets>,
  cluster: Option<Arc<tokio::sync::OnceCell<crate::state::cluster::Cluster>>>,
) {
  if let Some(cell) = cluster {
    while cell.get().is_none() {
      tokio::time::sleep(std::time::Duration::from_millis(200)).await;
    }
  }
  match secrets.reseal().await {
    Ok(0) => {}
    Ok(count) => tracing::info!(count, "sealed secrets again under the new key"),
    Err(e) => tracing::error!("could not seal the secrets again: {e}"),
  }
}

/// Reads the workers folder again. A new or changed worker is booted before it takes
/// traffic; one that fails to boot keeps its running version. Replaced and removed versions
/// leave the cache: their isolates finish the requests they have, then end.
async fn reload_workers(node: &Node, dir: &std::path::Path, config: &NodeConfig) {
  let current = node.router();
  let (next, mut changes) = match catalog::reload(&current, dir, &config.limits) {
    Ok(next) => next,
    Err(e) => {
      tracing::error!("kept the current workers: {e:#}");
      return;
    }
  };
  let mut deployments: Vec<Arc<Deployment>> = Vec::new();
  for deployment in next {
    let is_new = !current.deployments().iter().any(|d| Arc::ptr_eq(d, &deployment));
    if is_new {
      if let Err(e) = node.cache().pick(&deployment).await {
        tracing::error!(worker = deployment.name(), "not deployed: the new version does not start: {e}");
        changes.deployed.retain(|name| name != deployment.name());
        changes.retired.retain(|key| key.worker.as_ref() != deployment.name());
        if let Some(old) = current.get(deployment.name()) {
          deployments.push(old.clone());
        }
        continue;
      }
      tracing::info!(worker = deployment.name(), version = deployment.version(), "deployed");
    }
    deployments.push(deployment);
  }
  node.set_router(Router::new(deployments, Some(config.domain.clone())));
  for key in &changes.retired {
    node.cache().invalidate(key).await;
  }
  for name in &changes.removed {
    tracing::info!(worker = name, "removed");
  }
  for failure in &changes.failed {
    tracing::error!("kept the running version: {failure}");
  }
  tracing::info!(
    deployed = changes.deployed.len(),
    removed = changes.removed.len(),
    failed = changes.failed.len(),
    "reloaded the workers folder"
  );
}
