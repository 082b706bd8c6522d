//! Layer 5, `isolates`: the isolates of the workers a node serves. The routing table and the
//! warm-worker cache together ([`workers`]: what every layer above dispatches through), the
//! cache itself ([`cache`], moka) of each version's isolates ([`slot`]), in this process or in
//! isolate host processes ([`fleet`] on the node's side, [`host`] on the host's), and the
//! minimum of warm isolates some workers keep ([`warm`]).
//!
//! Uses `proto`, `manifest`, `catalog` and `observe` (metrics, console lines for `edge
//! tail`). What a worker's bindings answer comes from above, through the one seam
//! [`BindingHosts`], given to the cache when it is made.

pub mod cache;
pub mod fleet;
pub mod host;
pub mod slot;
pub mod warm;
pub mod workers;

use edge_runtime::BindingHostFn;

use crate::manifest::LoadedWorker;

/// How long requests in flight may take to finish once a worker is retired.
pub const DRAIN_TIMEOUT: std::time::Duration = std::time::Duration::from_secs(10);

/// What answers the binding calls of the workers the cache boots (the `platform` layer's
/// `NodeBindings`): the one way this layer reaches up.
pub trait BindingHosts: Send + Sync {
  /// The function that answers `worker`'s binding calls, if it has any.
  fn host_for(&self, worker: &LoadedWorker) -> Option<BindingHostFn>;
}
