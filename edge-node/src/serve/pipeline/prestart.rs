//! Stage 0, before any request: the name a TLS client asks for in its hello (SNI) starts the
//! worker of that host while the rest of the handshake is still on the wire, so that the first
//! request over the connection finds it resident (Cloudflare does the same). The handshake's
//! remaining round trip, and the client's request after it, take longer than a pooled start.
//!
//! Only a name the routing table sends to a worker starts anything (the worker at `/` of that
//! host), and only a worker without a cache entry: a resident or booting one costs a lookup.
//! A request that arrives while the start is still running waits for it (a coalesced start);
//! a start that fails is left for that request to report, with its request id.

use crate::serve::Node;

/// Starts, in the background, the worker `name` is routed to, unless it is in the cache.
pub fn prestart(node: &Node, name: &str) {
  let Some(deployment) = node.router().route(name, "/").cloned() else { return };
  if node.cache().holds(&deployment) {
    return;
  }
  let workers = node.workers().clone();
  tokio::spawn(async move {
    match workers.cache().keep_warm(&deployment, 1).await {
      Ok(0) => {}
      Ok(_) => workers.metrics().tls_prestart(deployment.name()),
      Err(e) => tracing::debug!(worker = deployment.name(), "not started on the TLS handshake: {e}"),
    }
  });
}
