//! The deno_core extensions every worker isolate is made of, in one ordered list.
//!
//! This file is also compiled into `build.rs` (through `#[path]`): the startup snapshot and
//! the runtime that restores it must be built from the very same list, or deno_core rejects
//! the snapshot. The Web APIs themselves come from Deno's crates; `edge_runtime` adds the ops
//! of [`crate::ops`] and the bootstrap module that turns those crates' lazy scripts into the
//! worker's global scope.

use std::sync::Arc;

use deno_core::Extension;

use crate::node_ops::*;
use crate::ops::*;

/// The `User-Agent` of a worker's outbound `fetch` and its `navigator.userAgent`.
pub const USER_AGENT: &str = concat!("edge-runtime/", env!("CARGO_PKG_VERSION"));

deno_core::extension!(
  edge_runtime,
  deps = [deno_webidl, deno_web, deno_crypto, deno_fetch],
  ops = [
    op_edge_next_request,
    op_edge_request_read,
    op_edge_request_cancel,
    op_edge_respond_text,
    op_edge_respond_bytes,
    op_edge_respond_empty,
    op_edge_respond_stream,
    op_edge_body_write,
    op_edge_body_close,
    op_edge_fail,
    op_edge_respond_websocket,
    op_edge_ws_send_text,
    op_edge_ws_send_bytes,
    op_edge_ws_close,
    op_edge_ws_next,
    op_edge_ws_release,
    op_edge_ws_connect,
    op_edge_tcp_connect,
    op_edge_tcp_read,
    op_edge_tcp_write,
    op_edge_tcp_shutdown,
    op_edge_tcp_close,
    op_edge_tcp_start_tls,
    op_edge_tcp_close_all,
    op_edge_env,
    op_edge_bindings,
    op_edge_binding,
    op_edge_subrequest,
    op_edge_trace,
    op_edge_print,
    op_edge_node_digest,
    op_edge_node_hmac,
    op_edge_node_cipher_new,
    op_edge_node_cipher_update,
    op_edge_node_cipher_set,
    op_edge_node_cipher_final,
    op_edge_node_key_import,
    op_edge_node_key_export,
    op_edge_node_key_generate,
    op_edge_node_sign,
    op_edge_node_verify,
    op_edge_node_rsa_crypt,
    op_edge_node_pbkdf2,
    op_edge_node_hkdf,
    op_edge_node_scrypt,
    op_edge_zlib_new,
    op_edge_zlib_write,
    op_edge_zlib_finish,
  ],
  esm_entry_point = "ext:edge_runtime/bootstrap.js",
  esm = [dir "js", "bootstrap.js", "websocket.js"],
);

// deno_fetch's scripts load two modules from extensions of Deno's CLI that an edge worker
// does not have: TLS client certificates (`Deno.createHttpClient`, not exposed here) and
// OpenTelemetry spans. These stand-ins give them the names they destructure, switched off.
deno_core::extension!(
  deno_net,
  lazy_loaded_js = ["ext:deno_net/02_tls.js" = {
    source = "(function () { return { loadTlsKeyPair() { throw new TypeError('client TLS certificates are not supported'); } }; })();"
  }],
);

deno_core::extension!(
  deno_telemetry,
  lazy_loaded_js = [
    "ext:deno_telemetry/telemetry.ts" = {
      source = "(function () { const { internals } = __bootstrap; const none = {}; internals.__telemetry = { TRACING_ENABLED: false, PROPAGATORS: [], DID_NOT_ENTER: none, builtinTracer() { return { startSpan() { return undefined; } }; }, ContextManager: { active() { return undefined; } }, enterSpan() { return none; }, exitSpan() {} }; return {}; })();"
    },
    "ext:deno_telemetry/util.ts" = {
      source = "(function () { const { internals } = __bootstrap; internals.__telemetryUtil = { updateSpanFromClientResponse() {}, updateSpanFromError() {}, updateSpanFromRequest() {} }; return {}; })();"
    }
  ],
);

/// The extensions of a worker isolate, in dependency order. `fetch` configures outbound
/// requests (the snapshot build passes the defaults: it makes none).
pub fn extensions(fetch: deno_fetch::Options) -> Vec<Extension> {
  vec![
    deno_net::init(),
    deno_telemetry::init(),
    deno_webidl::deno_webidl::init(),
    deno_web::deno_web::init(
      Arc::new(deno_web::BlobStore::default()),
      None,
      false,
      deno_web::InMemoryBroadcastChannel::default(),
    ),
    deno_crypto::deno_crypto::init(None),
    deno_fetch::deno_fetch::init(deno_fetch::Options { user_agent: USER_AGENT.to_string(), ..fetch }),
    edge_runtime::init(),
  ]
}
