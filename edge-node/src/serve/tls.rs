//! TLS for worker traffic: rustls, certificates from PEM files, SNI choosing among them, and
//! reloading them without dropping a connection.
//!
//! A [`Certificates`] holds the loaded certificates behind a lock; the rustls server config
//! asks it for a certificate on every handshake ([`ResolvesServerCert`]). The certificate
//! whose names cover the client's SNI name wins (wildcards as the certificate says, checked by
//! webpki); without SNI, or when none matches, the first configured one answers. [`reload`]
//! reads the files again and swaps the set: new handshakes use the new certificates,
//! connections already open keep theirs. A reload that fails keeps the old set.
//!
//! [`reload`]: Certificates::reload

use std::fmt;
use std::path::PathBuf;
use std::sync::Arc;
use std::sync::RwLock;

use rustls::server::ClientHello;
use rustls::server::ResolvesServerCert;
use rustls::sign::CertifiedKey;
use rustls::ServerConfig;
use rustls_pki_types::pem::PemObject;
use rustls_pki_types::CertificateDer;
use rustls_pki_types::PrivateKeyDer;
use rustls_pki_types::ServerName;
use serde::Deserialize;

/// One certificate: a PEM chain (leaf first) and its PEM private key.
#[derive(Clone, Debug, Deserialize, PartialEq, Eq)]
#[serde(deny_unknown_fields)]
pub struct CertificateFiles {
  /// The certificate chain, leaf first (PEM).
  pub cert: PathBuf,
  /// The leaf's private key (PEM: PKCS#8, PKCS#1 or SEC1).
  pub key: PathBuf,
}

/// A certificate file that cannot be used; names the file and the reason.
#[derive(Debug, thiserror::Error)]
#[error("{path}: {reason}")]
pub struct TlsError {
  pub path: PathBuf,
  pub reason: String,
}

/// The certificates a TLS listener offers.
pub struct Certificates {
  files: Vec<CertificateFiles>,
  loaded: RwLock<Arc<Vec<Arc<CertifiedKey>>>>,
}

impl fmt::Debug for Certificates {
  fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
    f.debug_struct("Certificates").field("files", &self.files).finish_non_exhaustive()
  }
}

impl Certificates {
  /// Loads `files`; at least one is needed.
  pub fn load(files: Vec<CertificateFiles>) -> Result<Arc<Certificates>, TlsError> {
    let loaded = load_all(&files)?;
    Ok(Arc::new(Certificates { files, loaded: RwLock::new(Arc::new(loaded)) }))
  }

  /// Reads the files again. On success new handshakes use the new certificates; on failure
  /// the current ones stay.
  pub fn reload(&self) -> Result<usize, TlsError> {
    let loaded = load_all(&self.files)?;
    let count = loaded.len();
    *self.loaded.write().unwrap() = Arc::new(loaded);
    Ok(count)
  }

  /// A rustls server config offering these certificates, with ALPN `h2` and `http/1.1`.
  pub fn server_config(self: &Arc<Self>) -> Arc<ServerConfig> {
    let provider = Arc::new(rustls::crypto::aws_lc_rs::default_provider());
    let mut config = ServerConfig::builder_with_provider(provider)
      .with_safe_default_protocol_versions()
      .expect("the aws-lc-rs provider supports the default protocol versions")
      .with_no_client_auth()
      .with_cert_resolver(self.clone());
    config.alpn_protocols = vec![b"h2".to_vec(), b"http/1.1".to_vec()];
    Arc::new(config)
  }
}

impl ResolvesServerCert for Certificates {
  fn resolve(&self, hello: ClientHello<'_>) -> Option<Arc<CertifiedKey>> {
    let loaded = self.loaded.read().unwrap().clone();
    let by_name = hello.server_name().and_then(|name| {
      let name = ServerName::try_from(name).ok()?;
      loaded.iter().find(|key| covers(key, &name)).cloned()
    });
    by_name.or_else(|| loaded.first().cloned())
  }
}

/// Whether the leaf certificate of `key` is valid for `name`.
fn covers(key: &CertifiedKey, name: &ServerName<'_>) -> bool {
  let Some(leaf) = key.cert.first() else { return false };
  match webpki::EndEntityCert::try_from(leaf) {
    Ok(cert) => cert.verify_is_valid_for_subject_name(name).is_ok(),
    Err(_) => false,
  }
}

fn load_all(files: &[CertificateFiles]) -> Result<Vec<Arc<CertifiedKey>>, TlsError> {
  if files.is_empty() {
    return Err(TlsError {
      path: PathBuf::from("tls.certificates"),
      reason: "no certificate configured".into(),
    });
  }
  files.iter().map(load_one).collect()
}

fn load_one(files: &CertificateFiles) -> Result<Arc<CertifiedKey>, TlsError> {
  let cert_error = |reason: String| TlsError { path: files.cert.clone(), reason };
  let key_error = |reason: String| TlsError { path: files.key.clone(), reason };
  let chain = CertificateDer::pem_file_iter(&files.cert)
    .map_err(|e| cert_error(format!("cannot read the certificate: {e}")))?
    .collect::<Result<Vec<_>, _>>()
    .map_err(|e| cert_error(format!("not a valid PEM certificate: {e}")))?;
  if chain.is_empty() {
    return Err(cert_error("no CERTIFICATE block in the file".into()));
  }
  webpki::EndEntityCert::try_from(&chain[0])
    .map_err(|e| cert_error(format!("the first certificate cannot be parsed: {e}")))?;
  let key = PrivateKeyDer::from_pem_file(&files.key)
    .map_err(|e| key_error(format!("cannot read a PEM private key: {e}")))?;
  let provider = rustls::crypto::aws_lc_rs::default_provider();
  let certified = CertifiedKey::from_der(chain, key, &provider)
    .map_err(|e| key_error(format!("the key does not fit the certificate {}: {e}", files.cert.display())))?;
  Ok(Arc::new(certified))
}
