//! The effective permissions of a worker's version, as the admin API shows them
//! (`GET /v1/workers/{name}/versions/{version}/permissions`): what its outbound `fetch` may
//! reach, which bindings it has, its variable and secret names (never their values), its
//! crons, its limits and its compatibility settings (whether it has Node.js's modules). A worker reaches nothing it did not declare in `edge.toml`.

use std::collections::BTreeMap;

use edge_runtime::Limits;
use serde::Serialize;

use crate::manifest::LoadedWorker;

/// What one version of a worker may do.
#[derive(Debug, Serialize)]
pub struct Permissions {
  pub worker: String,
  pub version: String,
  pub outbound: OutboundPermissions,
  pub bindings: BindingPermissions,
  /// The names on `env` that hold plain variables.
  pub vars: Vec<String>,
  /// The names on `env` that hold secrets (never their values).
  pub secrets: Vec<String>,
  pub crons: Vec<String>,
  pub limits: Limits,
  pub compatibility: crate::manifest::compatibility::Settings,
}

#[derive(Debug, Serialize)]
pub struct OutboundPermissions {
  /// Hosts outbound `fetch` may reach (`*` is any public host); empty: none.
  pub hosts: Vec<String>,
  /// Private addresses reachable after all.
  pub private_allowed: Vec<String>,
  /// Networks no request reaches whatever the host: the private ones not allowed.
  pub always_denied: Vec<String>,
  /// Outbound `fetch` calls a request may make.
  pub subrequests_per_request: u32,
}

#[derive(Debug, Serialize)]
pub struct BindingPermissions {
  /// KV binding → namespace.
  pub kv: BTreeMap<String, String>,
  /// Service binding → the worker it calls.
  pub services: BTreeMap<String, String>,
  /// Queue producer binding → queue.
  pub queue_producers: BTreeMap<String, String>,
  /// Queues whose messages it consumes.
  pub queues_consumed: Vec<String>,
}

impl Permissions {
  /// The permissions of `worker` at `version`.
  pub fn of(worker: &LoadedWorker, version: String) -> Permissions {
    let outbound = &worker.options.outbound;
    let always_denied = edge_runtime::PRIVATE_NETWORKS
      .iter()
      .chain(edge_runtime::PRIVATE_IPV6_NETWORKS)
      .filter(|network| !outbound.allow.iter().any(|a| a == *network))
      .map(|network| network.to_string())
      .collect();
    let vars =
      worker.options.env.keys().filter(|name| !worker.secrets.names.contains(*name)).cloned().collect();
    Permissions {
      worker: worker.bundle.name.clone(),
      version,
      outbound: OutboundPermissions {
        hosts: outbound.hosts.clone().unwrap_or_else(|| vec!["*".into()]),
        private_allowed: outbound.allow.clone(),
        always_denied,
        subrequests_per_request: worker.options.limits.subrequests,
      },
      bindings: BindingPermissions {
        kv: worker.kv.clone(),
        services: worker.services.clone(),
        queue_producers: worker.queue_producers.clone(),
        queues_consumed: worker.queue_consumers.iter().map(|c| c.queue.clone()).collect(),
      },
      vars,
      secrets: worker.secrets.names.clone(),
      crons: worker.crons.clone(),
      limits: worker.options.limits.clone(),
      compatibility: worker.compatibility.clone(),
    }
  }
}
