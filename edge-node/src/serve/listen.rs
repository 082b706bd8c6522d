//! The listeners of a node: hyper on tokio, one task per connection, graceful shutdown.
//!
//! A node has up to three listeners: worker traffic over plain TCP (HTTP/1.1 and h2c with
//! prior knowledge), worker traffic over TLS (ALPN `h2` or `http/1.1`), and the admin
//! listener. [`serve`] accepts on all of them until `shutdown` resolves, then stops accepting
//! and waits, up to the drain timeout, for the requests in flight to finish. What answers a
//! request is a [`Handler`]: the request pipeline for worker traffic, the node's admin routes
//! for the admin listener.
//!
//! A TLS handshake is read in two steps (tokio-rustls' `LazyConfigAcceptor`): the client's
//! hello first, whose SNI name the handler is told at once ([`Handler::server_name`]), then
//! the rest of the handshake, so that the handler's work for that name overlaps the round
//! trips still to come.

use std::convert::Infallible;
use std::future::Future;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use http::Request;
use http::Response;
use hyper::body::Incoming;
use hyper_util::rt::TokioIo;
use hyper_util::server::graceful::GracefulShutdown;
use hyper_util::server::graceful::Watcher;
use rustls::server::Acceptor;
use rustls::ServerConfig;
use tokio::io::AsyncRead;
use tokio::io::AsyncWrite;
use tokio::net::TcpListener;
use tokio_rustls::LazyConfigAcceptor;

use crate::proto::Body;

/// Where a request came from.
#[derive(Clone, Copy, Debug)]
pub struct Connection {
  pub peer: SocketAddr,
  /// Whether it came over TLS.
  pub tls: bool,
}

/// What answers the requests of one listener.
pub trait Handler: Send + Sync + 'static {
  fn handle(
    &self,
    request: Request<Incoming>,
    connection: Connection,
  ) -> impl Future<Output = Response<Body>> + Send;

  /// The name a TLS client asked for (SNI), told as soon as its hello arrives, before the
  /// handshake goes on. It must return at once: what it starts, it spawns.
  fn server_name(&self, _name: &str) {}
}

/// The listeners of a node.
pub struct Listeners {
  /// Worker traffic over plain TCP: HTTP/1.1 and h2c.
  pub http: TcpListener,
  /// Worker traffic over TLS.
  pub tls: Option<(TcpListener, Arc<ServerConfig>)>,
  /// `/metrics`, `/healthz`, `/readyz`, and the admin API.
  pub admin: Option<TcpListener>,
}

/// Serves `listeners` (worker traffic to `workers`, the admin listener to `admin`) until
/// `shutdown` resolves, then drains for up to `drain`.
pub async fn serve<W: Handler, A: Handler>(
  listeners: Listeners,
  workers: Arc<W>,
  admin: Arc<A>,
  drain: Duration,
  shutdown: impl Future<Output = ()>,
) {
  let graceful = GracefulShutdown::new();
  let (stop_tx, stop) = tokio::sync::watch::channel(false);
  let Listeners { http, tls, admin: admin_listener } = listeners;
  let http = accept_loop(http, None, &workers, &graceful, stop.clone());
  let tls = async {
    if let Some((listener, config)) = tls {
      accept_loop(listener, Some(config), &workers, &graceful, stop.clone()).await;
    }
  };
  let admin = async {
    if let Some(listener) = admin_listener {
      accept_loop(listener, None, &admin, &graceful, stop.clone()).await;
    }
  };
  let signal = async {
    shutdown.await;
    let _ = stop_tx.send(true);
  };
  tokio::join!(http, tls, admin, signal);
  tracing::info!("shutting down: waiting for requests in flight");
  tokio::select! {
    () = graceful.shutdown() => tracing::info!("all connections closed"),
    () = tokio::time::sleep(drain) => tracing::warn!("drain timeout: closing remaining connections"),
  }
}

async fn accept_loop<H: Handler>(
  listener: TcpListener,
  tls: Option<Arc<ServerConfig>>,
  handler: &Arc<H>,
  graceful: &GracefulShutdown,
  mut stop: tokio::sync::watch::Receiver<bool>,
) {
  loop {
    let (stream, peer) = tokio::select! {
      accepted = listener.accept() => match accepted {
        Ok(accepted) => accepted,
        Err(e) => {
          // Out of file descriptors and the like: report, back off briefly, keep serving.
          tracing::warn!("accept failed: {e}");
          tokio::time::sleep(Duration::from_millis(50)).await;
          continue;
        }
      },
      _ = stop.wait_for(|stop| *stop) => break,
    };
    let _ = stream.set_nodelay(true);
    let handler = handler.clone();
    let watcher = graceful.watcher();
    match tls.clone() {
      None => {
        let connection = Connection { peer, tls: false };
        tokio::spawn(serve_connection(stream, connection, handler, watcher));
      }
      Some(config) => {
        tokio::spawn(async move {
          let handshake = async {
            let start = LazyConfigAcceptor::new(Acceptor::default(), stream).await?;
            if let Some(name) = start.client_hello().server_name() {
              handler.server_name(name);
            }
            start.into_stream(config).await
          };
          // A client that never finishes its handshake does not hold a task forever.
          match tokio::time::timeout(Duration::from_secs(10), handshake).await {
            Ok(Ok(stream)) => {
              serve_connection(stream, Connection { peer, tls: true }, handler, watcher).await
            }
            Ok(Err(e)) => tracing::debug!(%peer, "TLS handshake failed: {e}"),
            Err(_) => tracing::debug!(%peer, "TLS handshake timed out"),
          }
        });
      }
    }
  }
}

async fn serve_connection<S, H: Handler>(stream: S, connection: Connection, handler: Arc<H>, watcher: Watcher)
where
  S: AsyncRead + AsyncWrite + Unpin + Send + 'static,
{
  let service = hyper::service::service_fn(move |request| {
    let handler = handler.clone();
    async move { Ok::<_, Infallible>(handler.handle(request, connection).await) }
  });
  // HTTP/1.1, or HTTP/2 (prior knowledge on plain TCP, ALPN over TLS), on the same port.
  let served = hyper_util::server::conn::auto::Builder::new(hyper_util::rt::TokioExecutor::new())
    .serve_connection(TokioIo::new(stream), service)
    .into_owned();
  if let Err(e) = watcher.watch(served).await {
    let peer = connection.peer;
    tracing::debug!(%peer, "connection ended: {e}");
  }
}

/// A future that resolves on Ctrl-C (SIGINT) or SIGTERM. The handlers are installed when this
/// is called, so call it before telling anyone the server is up: a signal that arrives before
/// then would otherwise kill the process instead of draining it.
pub fn shutdown_signal() -> impl std::future::Future<Output = ()> {
  use tokio::signal::unix::signal;
  use tokio::signal::unix::SignalKind;
  let interrupt = signal(SignalKind::interrupt());
  let terminate = signal(SignalKind::terminate());
  async move {
    let wait = |stream: std::io::Result<tokio::signal::unix::Signal>, name: &'static str| async move {
      match stream {
        Ok(mut stream) => {
          stream.recv().await;
        }
        Err(e) => {
          tracing::error!("cannot listen for {name}: {e}");
          std::future::pending::<()>().await;
        }
      }
    };
    tokio::select! {
      () = wait(interrupt, "Ctrl-C") => {},
      () = wait(terminate, "SIGTERM") => {},
    }
    tracing::info!("signal received");
  }
}
