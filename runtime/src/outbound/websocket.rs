//! Outbound WebSockets (`new WebSocket(url)`, or `fetch` with `Upgrade: websocket`): the
//! worker's outbound policy and the connection (TLS for `wss:`) as the parent module gives
//! them, the handshake (tokio-tungstenite), and a task that carries frames between the server
//! and the isolate's socket exchange.

use std::time::Duration;

use deno_permissions::PermissionsContainer;
use futures::SinkExt as _;
use futures::StreamExt as _;
use tokio::io::AsyncRead;
use tokio::io::AsyncWrite;
use tokio_tungstenite::tungstenite::client::IntoClientRequest as _;
use tokio_tungstenite::tungstenite::protocol::frame::coding::CloseCode;
use tokio_tungstenite::tungstenite::protocol::CloseFrame;
use tokio_tungstenite::tungstenite::protocol::WebSocketConfig;
use tokio_tungstenite::tungstenite::Message;
use tokio_tungstenite::WebSocketStream;

use crate::ops::Dial;
use crate::ops::Dialled;
use crate::ops::SocketMessage;
use crate::ops::WebSocketEnds;

/// tungstenite's read buffer: its default, 128 KiB, is zero-filled before every read and held
/// by every open socket (benches/websocket: most of an idle socket's memory, and an 18% memset
/// in the echo profile); messages larger than it are still read whole.
const READ_BUFFER: usize = 4096;

/// How long the server has to answer a close before the connection is dropped.
const CLOSE_WAIT: Duration = Duration::from_secs(5);

trait Io: AsyncRead + AsyncWrite + Unpin + Send {}
impl<T: AsyncRead + AsyncWrite + Unpin + Send> Io for T {}

/// Connects `dial` under `permissions` and, once the handshake is done, serves the socket
/// through `ends` in a task of its own; what the server agreed on.
pub async fn dial(
  dial: Dial,
  ends: WebSocketEnds,
  permissions: PermissionsContainer,
  message_bytes: usize,
) -> Dialled {
  let mut url = deno_core::url::Url::parse(&dial.url)
    .map_err(|e| format!("invalid WebSocket URL {:?}: {e}", dial.url))?;
  let secure = match url.scheme() {
    "ws" | "http" => false,
    "wss" | "https" => true,
    other => return Err(format!("a WebSocket URL must be ws: or wss: (got {other}:)")),
  };
  let _ = url.set_scheme(if secure { "wss" } else { "ws" });
  let host = url.host_str().ok_or_else(|| format!("the WebSocket URL {url} has no host"))?.to_owned();
  let port = url.port_or_known_default().unwrap_or(if secure { 443 } else { 80 });
  let addresses = super::allowed_addresses(&permissions, &host, port, "WebSocket").await?;
  let bare = host.trim_start_matches('[').trim_end_matches(']').to_owned();
  let connect = async {
    let tcp = tokio::net::TcpStream::connect(addresses.as_slice())
      .await
      .map_err(|e| format!("cannot connect to {host}:{port}: {e}"))?;
    let _ = tcp.set_nodelay(true);
    let stream: Box<dyn Io> = if secure {
      crate::roots::ready().await;
      let name = rustls_pki_types::ServerName::try_from(bare.clone())
        .map_err(|e| format!("invalid server name {bare}: {e}"))?;
      let tls = tokio_rustls::TlsConnector::from(super::client_config())
        .connect(name, tcp)
        .await
        .map_err(|e| format!("TLS with {host} failed: {e}"))?;
      Box::new(tls)
    } else {
      Box::new(tcp)
    };
    let mut request = url.as_str().into_client_request().map_err(|e| e.to_string())?;
    for (name, value) in &dial.headers {
      if let (Ok(name), Ok(value)) =
        (http::HeaderName::from_bytes(name.as_bytes()), http::HeaderValue::from_str(value))
      {
        request.headers_mut().insert(name, value);
      }
    }
    if !dial.protocols.is_empty() {
      let protocols = http::HeaderValue::from_str(&dial.protocols.join(", ")).map_err(|e| e.to_string())?;
      request.headers_mut().insert(http::header::SEC_WEBSOCKET_PROTOCOL, protocols);
    }
    let config = WebSocketConfig::default()
      .read_buffer_size(READ_BUFFER)
      .max_message_size(Some(message_bytes))
      .max_frame_size(Some(message_bytes));
    tokio_tungstenite::client_async_with_config(request, stream, Some(config))
      .await
      .map_err(|e| format!("the WebSocket handshake with {url} failed: {e}"))
  };
  let (ws, response) = tokio::time::timeout(super::CONNECT_TIMEOUT, connect)
    .await
    .map_err(|_| format!("connecting to {url} timed out"))??;
  let header = |name| response.headers().get(name).and_then(|v| v.to_str().ok()).unwrap_or("").to_owned();
  let agreed = (header(http::header::SEC_WEBSOCKET_PROTOCOL), header(http::header::SEC_WEBSOCKET_EXTENSIONS));
  tokio::spawn(carry(ws, ends));
  Ok(agreed)
}

/// Carries frames between the server and the isolate until either side closes.
async fn carry<S: AsyncRead + AsyncWrite + Unpin>(mut ws: WebSocketStream<S>, ends: WebSocketEnds) {
  let WebSocketEnds { to_client: mut to_server, from_client: from_server } = ends;
  let mut worker_open = true;
  let close_wait = tokio::time::sleep(Duration::MAX / 4);
  tokio::pin!(close_wait);
  loop {
    tokio::select! {
      frame = ws.next() => match frame {
        Some(Ok(Message::Text(text))) => {
          let _ = from_server.send(SocketMessage::Text(text.as_str().to_owned())).await;
        }
        Some(Ok(Message::Binary(bytes))) => {
          let _ = from_server.send(SocketMessage::Binary(bytes)).await;
        }
        Some(Ok(Message::Close(frame))) => {
          let (code, reason) = frame.map_or((1005, String::new()), |f| (u16::from(f.code), f.reason.as_str().to_owned()));
          let _ = tokio::time::timeout(CLOSE_WAIT, from_server.send(SocketMessage::Close { code, reason })).await;
        }
        Some(Ok(_)) => {}
        Some(Err(_)) | None => break,
      },
      message = to_server.recv(), if worker_open => match message {
        Some(message) => {
          let frame = match message {
            SocketMessage::Text(text) => Message::text(text),
            SocketMessage::Binary(bytes) => Message::Binary(bytes),
            SocketMessage::Close { code, reason } => {
              worker_open = false;
              close_wait.as_mut().reset(tokio::time::Instant::now() + CLOSE_WAIT);
              Message::Close(Some(CloseFrame { code: CloseCode::from(code), reason: reason.into() }))
            }
          };
          if ws.send(frame).await.is_err() {
            break;
          }
        }
        None => {
          // The isolate is gone.
          worker_open = false;
          let frame = CloseFrame { code: CloseCode::Away, reason: "the worker stopped".into() };
          let _ = ws.close(Some(frame)).await;
          close_wait.as_mut().reset(tokio::time::Instant::now() + CLOSE_WAIT);
        }
      },
      () = &mut close_wait => break,
    }
  }
}
