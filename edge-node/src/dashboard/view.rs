//! What the dashboard shows, gathered when asked: the node's routing table, the deploy API's
//! records (the cluster's, in a cluster), the nodes' reports, and each worker's recent
//! figures (`observe::stats`).

use std::collections::BTreeMap;

use serde::Serialize;

use super::Dashboard;
use crate::observe::stats::Figures;
use crate::serve::Node;
use crate::state::cluster::NodeStatus;

/// Everything on the page.
#[derive(Debug, Serialize)]
pub struct View {
  /// This node's id.
  pub node: String,
  pub clustered: bool,
  pub uptime_secs: u64,
  pub workers: Vec<WorkerRow>,
  /// Every node (this one alone, or the cluster's live nodes) and the versions it serves.
  pub nodes: Vec<NodeStatus>,
  /// What could not be read (the cluster out of reach, say), for a notice on the page.
  pub problems: Vec<String>,
  /// This node's memory: its ceiling over the isolates, and what it holds.
  pub memory: MemoryView,
}

/// This node's memory, in MiB.
#[derive(Debug, Default, Serialize)]
pub struct MemoryView {
  /// The ceiling over all isolates (`node_memory_mb`).
  pub limit_mb: u64,
  /// What the isolates may hold now under their granted heap limits.
  pub granted_mb: u64,
  /// Resident memory of the node's process (and its isolate hosts).
  pub resident_mb: u64,
  /// Isolates stopped to stay under the ceiling, and starts refused near it, so far.
  pub stopped: u64,
  pub refused: u64,
}

/// One worker.
#[derive(Debug, Serialize)]
pub struct WorkerRow {
  pub name: String,
  /// The version this node serves.
  pub serving: Option<String>,
  /// The version deployed as active (through the deploy API), when it was.
  pub active: Option<String>,
  /// Every deployed version, oldest first.
  pub versions: Vec<String>,
  /// Served from the node's workers folder rather than deployed.
  pub from_folder: bool,
  /// Where it answers: `<name>.<domain>` and its route patterns.
  pub routes: Vec<String>,
  /// Its recent figures on this node.
  pub figures: Figures,
  /// The compatibility settings of the version this node serves.
  pub compatibility: Option<crate::manifest::compatibility::Settings>,
}

impl View {
  pub async fn gather(node: &Node, dashboard: &Dashboard) -> View {
    let router = node.router();
    let mut rows: BTreeMap<String, WorkerRow> = BTreeMap::new();
    let row = |rows: &mut BTreeMap<String, WorkerRow>, name: &str| {
      rows.entry(name.to_owned()).or_insert_with(|| WorkerRow {
        name: name.to_owned(),
        serving: None,
        active: None,
        versions: Vec::new(),
        from_folder: false,
        routes: Vec::new(),
        figures: Figures { worker: name.to_owned(), ..Figures::default() },
        compatibility: None,
      });
    };
    let mut serving = BTreeMap::new();
    for deployment in router.deployments() {
      let name = deployment.name();
      row(&mut rows, name);
      let entry = rows.get_mut(name).expect("just added");
      let version = format!("{}-{}", deployment.sequence, deployment.hash);
      serving.insert(name.to_owned(), version.clone());
      entry.serving = Some(version);
      entry.from_folder = !deployment.from_store;
      entry.compatibility = Some(deployment.worker.compatibility.clone());
      if let Some(domain) = router.domain() {
        entry.routes.push(format!("{name}.{domain}"));
      }
      entry.routes.extend(deployment.worker.routes.iter().map(ToString::to_string));
    }
    let mut problems = Vec::new();
    let mut nodes = match &dashboard.deploy {
      Some(api) => {
        let (workers, nodes) = api.overview(node).await;
        match workers {
          Ok(workers) => {
            for info in workers {
              row(&mut rows, &info.name);
              let entry = rows.get_mut(&info.name).expect("just added");
              entry.active = info.active;
              entry.versions = info.versions;
            }
          }
          Err(e) => problems.push(format!("deployed workers: {e}")),
        }
        nodes.unwrap_or_else(|e| {
          problems.push(format!("nodes: {e}"));
          Vec::new()
        })
      }
      None => Vec::new(),
    };
    if !dashboard.clustered {
      // Alone, the node serves what its routing table holds (the workers folder's too).
      let failed = nodes.first().map(|status| status.failed.clone()).unwrap_or_default();
      nodes = vec![NodeStatus {
        node: dashboard.node_id.clone(),
        workers: serving,
        failed,
        ..NodeStatus::default()
      }];
    }
    for figures in node.metrics().recent().figures() {
      if let Some(entry) = rows.get_mut(&figures.worker) {
        entry.figures = figures;
      }
    }
    let uptime_secs = dashboard.started.elapsed().map_or(0, |d| d.as_secs());
    let scraped = node.cache().scrape().await.memory;
    let memory = MemoryView {
      limit_mb: scraped.ceiling.limit_bytes >> 20,
      granted_mb: scraped.ceiling.granted_bytes >> 20,
      resident_mb: scraped.resident_bytes >> 20,
      stopped: scraped.ceiling.stopped_isolates,
      refused: scraped.ceiling.refused_starts,
    };
    View {
      node: dashboard.node_id.clone(),
      clustered: dashboard.clustered,
      uptime_secs,
      workers: rows.into_values().collect(),
      nodes,
      problems,
      memory,
    }
  }
}
