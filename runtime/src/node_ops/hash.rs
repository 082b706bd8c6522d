//! `node:crypto`'s synchronous digests and HMACs (`createHash`, `createHmac`), which Node's API
//! needs and WebCrypto (asynchronous) cannot give. RustCrypto's hashes; the algorithm names
//! are Node's (OpenSSL's), case-insensitive.

use deno_core::op2;
use deno_error::JsErrorBox;

/// The digests `node:crypto` offers, by Node's names.
#[derive(Clone, Copy)]
enum Algorithm {
  Md5,
  Sha1,
  Sha224,
  Sha256,
  Sha384,
  Sha512,
}

impl Algorithm {
  fn of(name: &str) -> Result<Algorithm, JsErrorBox> {
    Ok(match name.to_ascii_lowercase().as_str() {
      "md5" | "rsa-md5" => Algorithm::Md5,
      "sha1" | "sha-1" | "rsa-sha1" => Algorithm::Sha1,
      "sha224" | "sha-224" | "rsa-sha224" => Algorithm::Sha224,
      "sha256" | "sha-256" | "rsa-sha256" => Algorithm::Sha256,
      "sha384" | "sha-384" | "rsa-sha384" => Algorithm::Sha384,
      "sha512" | "sha-512" | "rsa-sha512" => Algorithm::Sha512,
      // Node's words, exactly.
      _ => return Err(JsErrorBox::new("Error", "Digest method not supported")),
    })
  }
}

fn digest<D: sha2::Digest>(parts: &[&[u8]]) -> Vec<u8> {
  let mut hasher = D::new();
  for part in parts {
    hasher.update(part);
  }
  hasher.finalize().to_vec()
}

fn mac<M: hmac::Mac + hmac::digest::KeyInit>(key: &[u8], parts: &[&[u8]]) -> Vec<u8> {
  let mut mac = <M as hmac::digest::KeyInit>::new_from_slice(key).expect("HMAC takes a key of any length");
  for part in parts {
    mac.update(part);
  }
  mac.finalize().into_bytes().to_vec()
}

/// The digest of `data` with `algorithm`.
#[op2]
#[buffer]
pub fn op_edge_node_digest(#[string] algorithm: &str, #[buffer] data: &[u8]) -> Result<Vec<u8>, JsErrorBox> {
  let parts = [data];
  Ok(match Algorithm::of(algorithm)? {
    Algorithm::Md5 => digest::<md5::Md5>(&parts),
    Algorithm::Sha1 => digest::<sha1::Sha1>(&parts),
    Algorithm::Sha224 => digest::<sha2::Sha224>(&parts),
    Algorithm::Sha256 => digest::<sha2::Sha256>(&parts),
    Algorithm::Sha384 => digest::<sha2::Sha384>(&parts),
    Algorithm::Sha512 => digest::<sha2::Sha512>(&parts),
  })
}

/// The HMAC of `data` under `key` with `algorithm`.
#[op2]
#[buffer]
pub fn op_edge_node_hmac(
  #[string] algorithm: &str,
  #[buffer] key: &[u8],
  #[buffer] data: &[u8],
) -> Result<Vec<u8>, JsErrorBox> {
  let parts = [data];
  Ok(match Algorithm::of(algorithm)? {
    Algorithm::Md5 => mac::<hmac::Hmac<md5::Md5>>(key, &parts),
    Algorithm::Sha1 => mac::<hmac::Hmac<sha1::Sha1>>(key, &parts),
    Algorithm::Sha224 => mac::<hmac::Hmac<sha2::Sha224>>(key, &parts),
    Algorithm::Sha256 => mac::<hmac::Hmac<sha2::Sha256>>(key, &parts),
    Algorithm::Sha384 => mac::<hmac::Hmac<sha2::Sha384>>(key, &parts),
    Algorithm::Sha512 => mac::<hmac::Hmac<sha2::Sha512>>(key, &parts),
  })
}
