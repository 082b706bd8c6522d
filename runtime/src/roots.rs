//! The roots every outbound TLS connection of this process trusts (`fetch`, `wss:`,
//! `connect()`): webpki's (Mozilla's list), and those the operator adds ([`trust_roots`]).

use std::sync::Arc;
use std::sync::OnceLock;

use rustls::pki_types::pem::PemObject as _;
use rustls::pki_types::CertificateDer;
use rustls::RootCertStore;

/// Roots the operator added, once set ([`trust_roots`]).
static EXTRA_ROOTS: OnceLock<RootCertStore> = OnceLock::new();

/// The store, made at the first outbound TLS connection.
static ROOTS: OnceLock<RootCertStore> = OnceLock::new();

/// webpki's roots and those of [`trust_roots`].
pub fn roots() -> &'static RootCertStore {
  ROOTS.get_or_init(|| {
    let mut roots = RootCertStore { roots: webpki_roots::TLS_SERVER_ROOTS.to_vec() };
    roots.roots.extend(EXTRA_ROOTS.get().into_iter().flat_map(|extra| extra.roots.iter().cloned()));
    roots
  })
}

/// Adds roots to what outbound TLS trusts (a private CA, or the system's bundle such as
/// `/etc/ssl/certs/ca-certificates.crt`): the certificates of each source, a name (for
/// errors: a file's path) and a PEM text. Call it once, before the first outbound connection;
/// how many certificates it added (those rustls cannot use as roots are skipped, but a source
/// without one usable is an error).
pub fn trust_roots<'a>(sources: impl IntoIterator<Item = (&'a str, &'a [u8])>) -> Result<usize, String> {
  let mut extra = RootCertStore::empty();
  for (name, pem) in sources {
    add(&mut extra, pem).map_err(|e| format!("trusted roots {name}: {e}"))?;
  }
  if ROOTS.get().is_some() {
    return Err("too late: outbound TLS has started with the roots it had".into());
  }
  let added = extra.len();
  EXTRA_ROOTS.set(extra).map_err(|_| "the trusted roots were set already".to_string())?;
  Ok(added)
}

/// Adds the usable root certificates of `pem` to `store`; an error when it holds none.
fn add(store: &mut RootCertStore, pem: &[u8]) -> Result<(), String> {
  let certificates = CertificateDer::pem_slice_iter(pem)
    .collect::<Result<Vec<_>, _>>()
    .map_err(|e| format!("not a PEM certificate: {e}"))?;
  let (added, _) = store.add_parsable_certificates(certificates);
  if added == 0 {
    return Err("no usable root certificate in it (PEM, `-----BEGIN CERTIFICATE-----`)".into());
  }
  Ok(())
}

/// deno_fetch's view of [`roots`].
#[derive(Debug)]
pub(crate) struct FetchRoots;

impl deno_tls::RootCertStoreProvider for FetchRoots {
  fn get_or_try_init(&self) -> Result<&deno_tls::rustls::RootCertStore, deno_error::JsErrorBox> {
    Ok(roots())
  }
}

/// Readies outbound TLS, once per process, off the calling thread (on tokio's blocking
/// pool): aws-lc seeds its random generator on first use (measured: 62 ms of CPU, spent
/// thrashing memory for timing jitter), which on an isolate's thread would be charged to the
/// worker's first handshake and trip its `cpu_ms`. Not done at start: it would slow the
/// isolates of every node that never connects anywhere.
pub(crate) async fn ready() {
  static READY: tokio::sync::OnceCell<()> = tokio::sync::OnceCell::const_new();
  READY
    .get_or_init(|| async {
      let _ = tokio::task::spawn_blocking(|| {
        let mut seed = [0u8; 32];
        let _ = rustls::crypto::aws_lc_rs::default_provider().secure_random.fill(&mut seed);
        client_config();
      })
      .await;
    })
    .await;
}

/// rustls for outbound connections: [`roots`], on the provider the whole build uses
/// (aws-lc-rs).
pub(crate) fn client_config() -> Arc<rustls::ClientConfig> {
  static CONFIG: OnceLock<Arc<rustls::ClientConfig>> = OnceLock::new();
  CONFIG
    .get_or_init(|| {
      let provider = Arc::new(rustls::crypto::aws_lc_rs::default_provider());
      let config = rustls::ClientConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .expect("the provider supports TLS 1.2 and 1.3")
        .with_root_certificates(roots().clone())
        .with_no_client_auth();
      Arc::new(config)
    })
    .clone()
}
