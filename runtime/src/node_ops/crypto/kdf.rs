//! Key derivation: PBKDF2, scrypt and HKDF, for the synchronous calls of `node:crypto` and,
//! deferred to a later tick by the JS side, for the callback ones.

use deno_core::op2;
use deno_error::JsErrorBox;
use serde::Deserialize;

use super::digest::{with_digest, Digest};

fn digest(name: &str) -> Result<Digest, JsErrorBox> {
  Digest::of(name).ok_or_else(|| JsErrorBox::type_error(format!("Invalid digest: {name}")))
}

/// PBKDF2-HMAC with `digest`: `length` bytes.
#[op2]
#[buffer]
pub fn op_edge_node_pbkdf2(
  #[buffer] password: &[u8],
  #[buffer] salt: &[u8],
  iterations: u32,
  #[number] length: usize,
  #[string] digest_name: &str,
) -> Result<Vec<u8>, JsErrorBox> {
  let mut out = vec![0; length];
  with_digest!(digest(digest_name)?, D => pbkdf2::pbkdf2_hmac::<D>(password, salt, iterations, &mut out));
  Ok(out)
}

/// HKDF (RFC 5869) with `digest`: `length` bytes, at most 255 hashes' worth.
#[op2]
#[buffer]
pub fn op_edge_node_hkdf(
  #[string] digest_name: &str,
  #[buffer] key: &[u8],
  #[buffer] salt: &[u8],
  #[buffer] info: &[u8],
  #[number] length: usize,
) -> Result<Vec<u8>, JsErrorBox> {
  let mut out = vec![0; length];
  with_digest!(digest(digest_name)?, D => hkdf::Hkdf::<D>::new(Some(salt), key)
    .expand(info, &mut out)
    .map_err(|_| JsErrorBox::new("RangeError", "Invalid key length"))?);
  Ok(out)
}

/// scrypt's cost parameters, as Node names them (after its aliases are resolved).
#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ScryptParams {
  /// N, a power of two above 1.
  n: u64,
  r: u32,
  p: u32,
  /// The most memory the derivation may take, in bytes.
  maxmem: u64,
}

fn invalid_params(detail: &str) -> JsErrorBox {
  JsErrorBox::new("RangeError", format!("Invalid scrypt params{detail}"))
}

/// scrypt (RFC 7914): `length` bytes.
#[op2]
#[buffer]
pub fn op_edge_node_scrypt(
  #[buffer] password: &[u8],
  #[buffer] salt: &[u8],
  #[number] length: usize,
  #[serde] params: ScryptParams,
) -> Result<Vec<u8>, JsErrorBox> {
  let ScryptParams { n, r, p, maxmem } = params;
  if n < 2 || !n.is_power_of_two() {
    return Err(invalid_params(""));
  }
  // What OpenSSL counts against maxmem: the p blocks of 128·r bytes and the table of N+2.
  let memory = 128u128 * r as u128 * (p as u128 + n as u128 + 2);
  if memory > maxmem as u128 {
    return Err(invalid_params(": error:030000AC:digital envelope routines::memory limit exceeded"));
  }
  // The length in `Params` is only for scrypt's password-hash strings; any output length works.
  let params = scrypt::Params::new(n.trailing_zeros() as u8, r, p, 32).map_err(|_| invalid_params(""))?;
  let mut out = vec![0; length];
  if length > 0 {
    scrypt::scrypt(password, salt, &params, &mut out).map_err(|_| invalid_params(""))?;
  }
  Ok(out)
}
