//! Outbound TCP sockets (`connect()` of `cloudflare:sockets`): the worker's outbound policy
//! checked on the host and every address it resolves to, the connection, and TLS through
//! rustls (from the start, or later by `startTls()`). The ops that use them are in
//! `ops/tcp.rs`.

use deno_permissions::PermissionsContainer;

use crate::ops::BoxedStream;
use crate::ops::Connected;
use crate::ops::TcpDial;

/// Connects `dial` under `permissions`.
pub async fn connect(dial: TcpDial, permissions: PermissionsContainer) -> Result<Connected, String> {
  let TcpDial { hostname, port, tls } = dial;
  if hostname.is_empty() {
    return Err("connect() needs a hostname".into());
  }
  if port == 0 {
    return Err("connect() needs a port from 1 to 65535".into());
  }
  let addresses = super::allowed_addresses(&permissions, &hostname, port, "connect()").await?;
  let tcp =
    tokio::time::timeout(super::CONNECT_TIMEOUT, tokio::net::TcpStream::connect(addresses.as_slice()))
      .await
      .map_err(|_| format!("connecting to {hostname}:{port} timed out"))?
      .map_err(|e| format!("cannot connect to {hostname}:{port}: {e}"))?;
  let _ = tcp.set_nodelay(true);
  let remote = tcp.peer_addr().map(|a| a.to_string()).unwrap_or_default();
  let local = tcp.local_addr().map(|a| a.to_string()).unwrap_or_default();
  let stream: BoxedStream = match tls {
    true => secure(Box::new(tcp), hostname).await?,
    false => Box::new(tcp),
  };
  Ok(Connected { stream, remote, local })
}

/// Starts TLS with `hostname` over `stream`, checking its certificate against the trusted
/// roots.
pub async fn secure(stream: BoxedStream, hostname: String) -> Result<BoxedStream, String> {
  let bare = hostname.trim_start_matches('[').trim_end_matches(']').to_owned();
  let name = rustls_pki_types::ServerName::try_from(bare)
    .map_err(|e| format!("TLS needs a valid server name, not {hostname:?}: {e}"))?;
  crate::roots::ready().await;
  let config = super::client_config();
  let handshake = tokio_rustls::TlsConnector::from(config).connect(name, stream);
  let tls = tokio::time::timeout(super::CONNECT_TIMEOUT, handshake)
    .await
    .map_err(|_| format!("the TLS handshake with {hostname} timed out"))?
    .map_err(|e| format!("TLS with {hostname} failed: {e}"))?;
  Ok(Box::new(tls))
}
