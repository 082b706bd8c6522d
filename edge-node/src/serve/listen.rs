//! The listeners of a node: hyper on tokio, one task per connection, graceful shutdown.
//!
//! A node has up to three listeners: worker traffic over plain TCP (HTTP/1.1 and h2c with
//! prior knowledge), worker traffic over TLS (ALPN `h2` or `http/1.1`), and the admin
//! listener. [`serve`] accepts on all of them until `shutdown` resolves, then stops accepting
//! and waits, up to the drain timeout, for the requests in flight to finish. What answers a
//! request is a [`Handler`]: the request pipeline for worker traffic, the node's admin routes
//! for the admin listener. Every connection passes the limits of [`connections`] (the router's
//! listener too, through [`Served`]): a [`Gate`] when accepted, [`drive`] while open.
//!
//! A TLS handshake is read in two steps (tokio-rustls' `LazyConfigAcceptor`): the client's
//! hello first, whose SNI name the handler is told at once ([`Handler::server_name`]), then
//! the rest of the handshake, so that the handler's work for that name overlaps the round
//! trips still to come.
//!
//! [`connections`]: crate::serve::connections
//! [`drive`]: crate::serve::connections::drive

use std::convert::Infallible;
use std::future::Future;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use http::Request;
use http::Response;
use hyper_util::rt::TokioExecutor;
use hyper_util::rt::TokioIo;
use hyper_util::rt::TokioTimer;
use hyper_util::server::conn::auto;
use rustls::server::Acceptor;
use rustls::ServerConfig;
use tokio::io::AsyncRead;
use tokio::io::AsyncReadExt;
use tokio::io::AsyncWrite;
use tokio::io::AsyncWriteExt;
use tokio::net::TcpListener;
use tokio::net::TcpStream;
use tokio::sync::watch;
use tokio::sync::Semaphore;
use tokio_rustls::LazyConfigAcceptor;

use crate::observe::metrics::ConnectionMetrics;
use crate::proto::Body;
use crate::proto::ClientBody;
use crate::serve::connections::drive;
use crate::serve::connections::Activity;
use crate::serve::connections::ConnectionLimits;
use crate::serve::connections::Gate;
use crate::serve::connections::Metered;
use crate::serve::connections::Permit;
use crate::serve::connections::Refusal;

/// Where a request came from.
#[derive(Clone, Copy, Debug)]
pub struct Connection {
  pub peer: SocketAddr,
  /// Whether it came over TLS.
  pub tls: bool,
}

/// What an upgraded connection (a WebSocket) keeps of the connection it was: its place under
/// the listener's limits, and the node's stop signal. In the extensions of every request that
/// asks to upgrade; the connection counts as open until the last holder drops it.
#[derive(Clone)]
pub struct ConnectionHold {
  _permit: Arc<Permit>,
  /// Becomes true when the node stops accepting (it drains).
  pub stop: watch::Receiver<bool>,
}

/// What answers the requests of one listener.
pub trait Handler: Send + Sync + 'static {
  fn handle(
    &self,
    request: Request<ClientBody>,
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

/// How a set of listeners serves its connections: the limits, the HTTP settings made from
/// them, and whether requests may upgrade their connection (WebSockets).
pub struct Served {
  limits: ConnectionLimits,
  http: auto::Builder<TokioExecutor>,
  upgrades: bool,
  /// Refused plain connections being told why, at most this many at once.
  refusing: Arc<Semaphore>,
  stop: watch::Receiver<bool>,
}

impl Served {
  /// Connections served under `limits`, until `stop` says true.
  pub fn new(limits: &ConnectionLimits, upgrades: bool, stop: watch::Receiver<bool>) -> Arc<Served> {
    let mut http = auto::Builder::new(TokioExecutor::new());
    // The head's timeout is kept by `drive` (hyper's would also end idle connections).
    http.http1().header_read_timeout(None).max_buf_size(limits.max_header_bytes as usize);
    let ping = (limits.http2_ping_secs > 0).then(|| Duration::from_secs(limits.http2_ping_secs));
    http
      .http2()
      .timer(TokioTimer::new())
      .max_concurrent_streams(limits.http2_max_streams)
      .max_header_list_size(limits.max_header_bytes)
      .keep_alive_interval(ping)
      .keep_alive_timeout(Duration::from_secs(20));
    Arc::new(Served { limits: limits.clone(), http, upgrades, refusing: Arc::new(Semaphore::new(256)), stop })
  }

  /// Accepts on `listener` until stopped: each connection through `gate`, over TLS with
  /// `tls`, answered by `handler`.
  pub async fn accept<H: Handler>(
    self: &Arc<Self>,
    listener: TcpListener,
    name: &'static str,
    tls: Option<Arc<ServerConfig>>,
    gate: &Arc<Gate>,
    handler: &Arc<H>,
  ) {
    let mut stop = self.stop.clone();
    loop {
      let (stream, peer) = tokio::select! {
        accepted = listener.accept() => match accepted {
          Ok(accepted) => accepted,
          Err(e) => {
            // Out of file descriptors and the like: report, back off briefly, keep serving.
            tracing::warn!(listener = name, "accept failed: {e}");
            tokio::time::sleep(Duration::from_millis(50)).await;
            continue;
          }
        },
        _ = stop.wait_for(|stop| *stop) => break,
      };
      let permit = match gate.admit(peer.ip(), name) {
        Ok(permit) => permit,
        Err(refusal) => {
          if tls.is_none() {
            if let Ok(slot) = self.refusing.clone().try_acquire_owned() {
              tokio::spawn(async move {
                refuse(stream, refusal).await;
                drop(slot);
              });
            }
          }
          continue;
        }
      };
      let _ = stream.set_nodelay(true);
      let served = self.clone();
      let handler = handler.clone();
      match tls.clone() {
        None => {
          let connection = Connection { peer, tls: false };
          tokio::spawn(async move { served.connection(stream, connection, handler, permit).await });
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
            match tokio::time::timeout(served.limits.tls_handshake_timeout(), handshake).await {
              Ok(Ok(stream)) => {
                let connection = Connection { peer, tls: true };
                served.connection(stream, connection, handler, permit).await
              }
              Ok(Err(e)) => tracing::debug!(%peer, "TLS handshake failed: {e}"),
              Err(_) => crate::serve::connections::handshake_timed_out(&permit, peer.ip()),
            }
          });
        }
      }
    }
  }

  /// Serves one admitted connection to its end.
  async fn connection<S, H: Handler>(
    &self,
    stream: S,
    connection: Connection,
    handler: Arc<H>,
    permit: Permit,
  ) where
    S: AsyncRead + AsyncWrite + Unpin + Send + 'static,
  {
    let activity = Activity::new(&self.limits);
    let io = TokioIo::new(Metered::new(stream, activity.clone()));
    let counted = activity.clone();
    let turns = permit.turns();
    let permit = Arc::new(permit);
    let held = (self.upgrades, permit.clone(), self.stop.clone());
    let service = hyper::service::service_fn(move |mut request: Request<hyper::body::Incoming>| {
      if held.0 && request.headers().contains_key(http::header::UPGRADE) {
        let hold = ConnectionHold { _permit: held.1.clone(), stop: held.2.clone() };
        request.extensions_mut().insert(hold);
      }
      let handler = handler.clone();
      let answer = counted.begin(request.version());
      let pace = counted.body.clone();
      let turns = turns.clone();
      async move {
        // The client's turn: at most so many of its requests are worked on at once.
        let _turn = turns.acquire_owned().await;
        let request = request.map(|body| ClientBody::new(body, Some(pace)));
        let response = handler.handle(request, connection).await;
        Ok::<_, Infallible>(answer.answered(response))
      }
    });
    let peer = connection.peer.ip();
    let stop = self.stop.clone();
    // HTTP/1.1, or HTTP/2 (prior knowledge on plain TCP, ALPN over TLS), on the same port.
    if self.upgrades {
      let served = self.http.serve_connection_with_upgrades(io, service).into_owned();
      drive(served, activity, &self.limits, &permit, peer, stop).await;
    } else {
      let served = self.http.serve_connection(io, service).into_owned();
      drive(served, activity, &self.limits, &permit, peer, stop).await;
    }
  }
}

/// Tells a refused plain-HTTP client why (a `503`), then closes, within two seconds.
async fn refuse(mut stream: TcpStream, refusal: Refusal) {
  let message = refusal.message();
  let answer = format!(
    "HTTP/1.1 503 Service Unavailable\r\ncontent-type: text/plain; charset=utf-8\r\ncontent-length: {}\r\nretry-after: 1\r\nx-edge-refused: {}\r\nconnection: close\r\n\r\n{message}\n",
    message.len() + 1,
    refusal.reason(),
  );
  let told = async {
    stream.write_all(answer.as_bytes()).await?;
    stream.shutdown().await?;
    // Read what the client sends until it closes, so that the answer is not lost to a reset.
    let mut sink = [0u8; 2048];
    while stream.read(&mut sink).await? > 0 {}
    Ok::<_, std::io::Error>(())
  };
  let _ = tokio::time::timeout(Duration::from_secs(2), told).await;
}

/// Serves `listeners` (worker traffic to `workers`, the admin listener to `admin`) under
/// `limits`, counted in `metrics`, until `shutdown` resolves, then drains for up to `drain`.
pub async fn serve<W: Handler, A: Handler>(
  listeners: Listeners,
  workers: Arc<W>,
  admin: Arc<A>,
  limits: &ConnectionLimits,
  metrics: ConnectionMetrics,
  drain: Duration,
  shutdown: impl Future<Output = ()>,
) {
  let (stop_tx, stop) = watch::channel(false);
  // Worker traffic may upgrade to WebSockets (`serve::websocket`).
  let served = Served::new(limits, true, stop);
  let public = Gate::new(limits, limits.total(), metrics.clone());
  let private = Gate::new(limits, limits.total().min(1024), metrics);
  let Listeners { http, tls, admin: admin_listener } = listeners;
  let http = served.accept(http, "http", None, &public, &workers);
  let tls = async {
    if let Some((listener, config)) = tls {
      served.accept(listener, "tls", Some(config), &public, &workers).await;
    }
  };
  let admin = async {
    if let Some(listener) = admin_listener {
      served.accept(listener, "admin", None, &private, &admin).await;
    }
  };
  let signal = async {
    shutdown.await;
    let _ = stop_tx.send(true);
  };
  tokio::join!(http, tls, admin, signal);
  tracing::info!("shutting down: waiting for requests in flight");
  tokio::select! {
    _ = async { tokio::join!(public.drained(), private.drained()) } => tracing::info!("all connections closed"),
    () = tokio::time::sleep(drain) => tracing::warn!("drain timeout: closing remaining connections"),
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
