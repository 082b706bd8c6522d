//! Connections a worker opens itself, besides `fetch` (which deno_fetch makes): outbound
//! WebSockets ([`websocket`]) and TCP sockets ([`tcp`]). Both go through what this module
//! holds, as `fetch` does: the worker's outbound policy ([`allowed_addresses`]: the host
//! declared, and every address its name resolves to checked against the private networks it
//! may not reach), and the roots TLS trusts (`crate::roots`).

pub mod tcp;
pub mod websocket;

use std::net::SocketAddr;
use std::time::Duration;

use deno_permissions::PermissionsContainer;

pub(crate) use crate::roots::client_config;

/// How long resolving, connecting and a handshake may take.
pub(crate) const CONNECT_TIMEOUT: Duration = Duration::from_secs(30);

/// The addresses `host:port` resolves to, when the worker's policy lets it reach the host and
/// every one of them (`what` names the kind of connection in the refusal).
pub(crate) async fn allowed_addresses(
  permissions: &PermissionsContainer,
  host: &str,
  port: u16,
  what: &str,
) -> Result<Vec<SocketAddr>, String> {
  let refused = |target: &str| {
    format!("{what} refused: {target} is not a host this worker may reach: declare it in its edge.toml under [outbound] hosts (a private address under [outbound] allow)")
  };
  let bare = host.trim_start_matches('[').trim_end_matches(']');
  let literal = match bare.parse::<std::net::IpAddr>() {
    Ok(std::net::IpAddr::V6(_)) => format!("[{bare}]"),
    _ => bare.to_owned(),
  };
  let url = deno_core::url::Url::parse(&format!("http://{literal}:{port}/"))
    .map_err(|e| format!("invalid host {host:?}: {e}"))?;
  let mut checker = permissions.clone();
  checker.check_net_url(&url, what).map_err(|_| refused(host))?;
  let addresses: Vec<SocketAddr> =
    tokio::time::timeout(CONNECT_TIMEOUT, tokio::net::lookup_host((bare, port)))
      .await
      .map_err(|_| format!("resolving {host} timed out"))?
      .map_err(|e| format!("cannot resolve {host}: {e}"))?
      .collect();
  for address in &addresses {
    checker.check_net_resolved(&address.ip(), port, what).map_err(|_| refused(&address.ip().to_string()))?;
    if crate::permissions::is_private_ipv6(address.ip()) {
      return Err(refused(&address.ip().to_string()));
    }
  }
  if addresses.is_empty() {
    return Err(format!("cannot resolve {host}: no address"));
  }
  Ok(addresses)
}
