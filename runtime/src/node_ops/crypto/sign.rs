//! Signatures (RSA PKCS#1 v1.5 and PSS, ECDSA, Ed25519) and RSA encryption
//! (`publicEncrypt` and kin), over keys in their normal form (`keys.rs`).
//!
//! The padding numbers are OpenSSL's, which Node exposes as `crypto.constants`. The messages
//! of failures are OpenSSL's, as Node passes them on.

use deno_core::op2;
use deno_error::JsErrorBox;
use rsa::traits::PublicKeyParts;
use rsa::{BigUint, Pkcs1v15Encrypt, RsaPublicKey};
use serde::Deserialize;

use super::digest::Digest;
use super::keys::{normal, with_curve, Key, Private, Public};

/// `crypto.constants.RSA_*`.
const RSA_PKCS1_PADDING: u32 = 1;
const RSA_NO_PADDING: u32 = 3;
const RSA_PKCS1_OAEP_PADDING: u32 = 4;
const RSA_PKCS1_PSS_PADDING: u32 = 6;
/// A PSS salt as long as the digest.
const RSA_PSS_SALTLEN_DIGEST: i32 = -1;
/// The longest salt when signing; found from the signature when verifying.
const RSA_PSS_SALTLEN_MAX_SIGN: i32 = -2;

/// A signature's options: `sign`'s and `verify`'s key options plus the digest.
#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct SignOptions {
  /// Absent for Ed25519 (which hashes by itself) and for RSA and EC's default (SHA-256).
  digest: Option<String>,
  padding: Option<u32>,
  salt_length: Option<i32>,
  /// `der` (the default) or `ieee-p1363`, for ECDSA.
  dsa_encoding: Option<String>,
}

fn openssl(message: &str) -> JsErrorBox {
  JsErrorBox::generic(message.to_string())
}

fn too_large() -> JsErrorBox {
  openssl("error:0200006E:rsa routines::data too large for key size")
}

fn bad_padding() -> JsErrorBox {
  openssl("error:1C8000A5:Provider routines::illegal or unsupported padding mode")
}

impl SignOptions {
  /// The digest and the hash of `data` with it, for RSA and ECDSA.
  fn hashed(&self, data: &[u8]) -> Result<(Digest, Vec<u8>), JsErrorBox> {
    let digest = match &self.digest {
      Some(name) => Digest::named(name)?,
      None => Digest::Sha256,
    };
    Ok((digest, digest.hash(data)))
  }

  fn is_p1363(&self) -> bool {
    self.dsa_encoding.as_deref() == Some("ieee-p1363")
  }
}

/// The PSS salt length `asked` names for `key` and `digest` (RFC 8017, 9.1.1).
fn max_salt(key: &RsaPublicKey, digest: Digest) -> usize {
  let em_len = (key.n().bits() - 1).div_ceil(8);
  em_len.saturating_sub(digest.size() + 2)
}

/// The hash (already of the message) left-padded to the curve's size: ECDSA takes a short
/// hash as the integer it is (SEC1, 4.1.3), which the RustCrypto curves refuse under half size.
fn ecdsa_prehash(hash: Vec<u8>, size: usize) -> Vec<u8> {
  if hash.len() >= size {
    return hash;
  }
  let mut padded = vec![0; size - hash.len()];
  padded.extend(hash);
  padded
}

/// The signature of `data` with the private key `pkcs8`.
#[op2]
#[buffer]
pub fn op_edge_node_sign(
  #[buffer] pkcs8: &[u8],
  #[buffer] data: &[u8],
  #[serde] options: SignOptions,
) -> Result<Vec<u8>, JsErrorBox> {
  match Private::from_pkcs8(pkcs8)? {
    Private::Ed25519(seed) => {
      if options.digest.is_some() {
        return Err(openssl("error:1C80007A:Provider routines::invalid digest"));
      }
      let pair = ring::signature::Ed25519KeyPair::from_seed_unchecked(&seed).expect("32 bytes");
      Ok(pair.sign(data).as_ref().to_vec())
    }
    Private::Rsa(key) => {
      let (digest, hashed) = options.hashed(data)?;
      let mut rng = rand::thread_rng();
      match options.padding.unwrap_or(RSA_PKCS1_PADDING) {
        RSA_PKCS1_PADDING => key.sign(digest.pkcs1v15(), &hashed).map_err(|_| too_large()),
        RSA_PKCS1_PSS_PADDING => {
          let salt = match options.salt_length.unwrap_or(RSA_PSS_SALTLEN_MAX_SIGN) {
            RSA_PSS_SALTLEN_DIGEST => digest.size(),
            RSA_PSS_SALTLEN_MAX_SIGN => max_salt(&key.to_public_key(), digest),
            length if length >= 0 => length as usize,
            _ => return Err(openssl("error:1C80006E:Provider routines::invalid salt length")),
          };
          if salt > max_salt(&key.to_public_key(), digest) {
            return Err(too_large());
          }
          key.sign_with_rng(&mut rng, digest.pss(salt), &hashed).map_err(|_| too_large())
        }
        _ => Err(bad_padding()),
      }
    }
    Private::Ec(curve, scalar) => {
      let (_, hashed) = options.hashed(data)?;
      let hashed = ecdsa_prehash(hashed, curve.size());
      with_curve!(curve, m => {
        use m::ecdsa::signature::hazmat::PrehashSigner;
        let key = m::ecdsa::SigningKey::from_slice(&scalar).expect("a valid scalar");
        let signature: m::ecdsa::Signature = key.sign_prehash(&hashed).map_err(|e| openssl(&e.to_string()))?;
        if options.is_p1363() {
          return Ok(signature.to_bytes().to_vec());
        }
        Ok(signature.to_der().as_bytes().to_vec())
      })
    }
  }
}

/// Whether `signature` is one of `data` by the key `der` (normal form; a private key
/// verifies with its public half).
#[op2]
pub fn op_edge_node_verify(
  private: bool,
  #[buffer] der: &[u8],
  #[buffer] data: &[u8],
  #[buffer] signature: &[u8],
  #[serde] options: SignOptions,
) -> Result<bool, JsErrorBox> {
  let public = match normal(private, der)? {
    Key::Private(key) => key.public(),
    Key::Public(key) => key,
  };
  match public {
    Public::Ed25519(key) => {
      if options.digest.is_some() {
        return Err(openssl("error:1C80007A:Provider routines::invalid digest"));
      }
      let key = ring::signature::UnparsedPublicKey::new(&ring::signature::ED25519, key);
      Ok(key.verify(data, signature).is_ok())
    }
    Public::Rsa(key) => {
      let (digest, hashed) = options.hashed(data)?;
      match options.padding.unwrap_or(RSA_PKCS1_PADDING) {
        RSA_PKCS1_PADDING => Ok(key.verify(digest.pkcs1v15(), &hashed, signature).is_ok()),
        RSA_PKCS1_PSS_PADDING => {
          let salt = match options.salt_length.unwrap_or(RSA_PSS_SALTLEN_MAX_SIGN) {
            RSA_PSS_SALTLEN_DIGEST => Some(digest.size()),
            RSA_PSS_SALTLEN_MAX_SIGN => None,
            length if length >= 0 => Some(length as usize),
            _ => return Err(openssl("error:1C80006E:Provider routines::invalid salt length")),
          };
          Ok(pss_verify(&key, digest, &hashed, signature, salt))
        }
        _ => Err(bad_padding()),
      }
    }
    Public::Ec(curve, point) => {
      let (_, hashed) = options.hashed(data)?;
      let hashed = ecdsa_prehash(hashed, curve.size());
      with_curve!(curve, m => {
        use m::ecdsa::signature::hazmat::PrehashVerifier;
        let key = m::ecdsa::VerifyingKey::from_sec1_bytes(&point).expect("a valid point");
        let signature = if options.is_p1363() {
          m::ecdsa::Signature::from_slice(signature)
        } else {
          m::ecdsa::Signature::from_der(signature)
        };
        Ok(signature.is_ok_and(|signature| key.verify_prehash(&hashed, &signature).is_ok()))
      })
    }
  }
}

/// MGF1 (RFC 8017, B.2.1) of `seed`, `length` bytes.
fn mgf1(digest: Digest, seed: &[u8], length: usize) -> Vec<u8> {
  let mut mask = Vec::with_capacity(length + digest.size());
  let mut counter = 0u32;
  while mask.len() < length {
    let mut hasher = digest.hasher();
    hasher.update(seed);
    hasher.update(&counter.to_be_bytes());
    mask.extend_from_slice(&hasher.finalize());
    counter += 1;
  }
  mask.truncate(length);
  mask
}

/// EMSA-PSS verification (RFC 8017, 8.1.2 and 9.1.2) with the salt length `salt`, or any
/// salt length (`None`, OpenSSL's "auto", which `rsa` does not offer).
fn pss_verify(
  key: &RsaPublicKey,
  digest: Digest,
  hashed: &[u8],
  signature: &[u8],
  salt: Option<usize>,
) -> bool {
  let mod_bits = key.n().bits();
  let em_bits = mod_bits - 1;
  let em_len = em_bits.div_ceil(8);
  let h_len = digest.size();
  if signature.len() != key.size() || em_len < h_len + 2 {
    return false;
  }
  let s = BigUint::from_bytes_be(signature);
  if &s >= key.n() {
    return false;
  }
  let Ok(m) = rsa::hazmat::rsa_encrypt(key, &s) else { return false };
  let m = m.to_bytes_be();
  if m.len() > em_len {
    return false;
  }
  let mut em = vec![0; em_len - m.len()];
  em.extend(m);
  if em[em_len - 1] != 0xbc {
    return false;
  }
  let (masked, rest) = em.split_at(em_len - h_len - 1);
  let h = &rest[..h_len];
  let top_bits = 8 * em_len - em_bits;
  if masked[0] >> (8 - top_bits) != 0 && top_bits > 0 {
    return false;
  }
  let mut db: Vec<u8> = masked.iter().zip(mgf1(digest, h, masked.len())).map(|(a, b)| a ^ b).collect();
  db[0] &= 0xffu8 >> top_bits;
  let Some(one) = db.iter().position(|&b| b != 0) else { return false };
  if db[one] != 1 {
    return false;
  }
  let found = &db[one + 1..];
  if salt.is_some_and(|salt| salt != found.len()) {
    return false;
  }
  let mut hasher = digest.hasher();
  hasher.update(&[0; 8]);
  hasher.update(hashed);
  hasher.update(found);
  *hasher.finalize() == *h
}

/// `publicEncrypt` and kin's options.
#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct RsaCryptOptions {
  padding: Option<u32>,
  oaep_hash: Option<String>,
  oaep_label: Option<deno_core::JsBuffer>,
}

impl RsaCryptOptions {
  fn oaep(&self) -> Result<rsa::Oaep, JsErrorBox> {
    let digest = Digest::of(self.oaep_hash.as_deref().unwrap_or("sha1")).ok_or_else(|| {
      JsErrorBox::type_error(format!("Invalid digest: {}", self.oaep_hash.as_deref().unwrap_or("")))
    })?;
    let label = match &self.oaep_label {
      Some(label) if !label.is_empty() => Some(
        String::from_utf8(label.to_vec())
          .map_err(|_| JsErrorBox::type_error("OAEP labels must be UTF-8 here"))?,
      ),
      _ => None,
    };
    Ok(digest.oaep(label))
  }
}

/// RSA with PKCS#1 type 1 padding removed (`publicDecrypt`'s), or `None` if it is not there.
fn unpad_type1(block: &[u8]) -> Option<Vec<u8>> {
  let rest = block.strip_prefix(&[0, 1])?;
  let zero = rest.iter().position(|&b| b != 0xff)?;
  (rest[zero] == 0 && zero >= 8).then(|| rest[zero + 1..].to_vec())
}

/// `publicEncrypt`, `privateDecrypt`, `privateEncrypt` or `publicDecrypt` (`operation`) of
/// `data` with the key `der` (normal form).
#[op2]
#[buffer]
pub fn op_edge_node_rsa_crypt(
  #[string] operation: &str,
  private: bool,
  #[buffer] der: &[u8],
  #[buffer] data: &[u8],
  #[serde] options: RsaCryptOptions,
) -> Result<Vec<u8>, JsErrorBox> {
  let key = normal(private, der)?;
  let mut rng = rand::thread_rng();
  // publicEncrypt and privateDecrypt pad with OAEP unless told otherwise, the other two with
  // PKCS#1 (type 1).
  let padding = options.padding.unwrap_or(match operation {
    "privateEncrypt" | "publicDecrypt" => RSA_PKCS1_PADDING,
    _ => RSA_PKCS1_OAEP_PADDING,
  });
  let public = |key: Key| match key {
    Key::Private(key) => key.public(),
    Key::Public(key) => key,
  };
  let not_rsa =
    || JsErrorBox::generic("error:1C8000A5:Provider routines::operation not supported for this keytype");
  match operation {
    "publicEncrypt" => {
      let Public::Rsa(key) = public(key) else { return Err(not_rsa()) };
      match padding {
        RSA_PKCS1_OAEP_PADDING => key.encrypt(&mut rng, options.oaep()?, data).map_err(|_| too_large()),
        RSA_PKCS1_PADDING => key.encrypt(&mut rng, Pkcs1v15Encrypt, data).map_err(|_| too_large()),
        RSA_NO_PADDING => raw_public(&key, data),
        _ => Err(bad_padding()),
      }
    }
    "publicDecrypt" => {
      let Public::Rsa(key) = public(key) else { return Err(not_rsa()) };
      let block = raw_public(&key, data)?;
      match padding {
        RSA_PKCS1_PADDING => {
          unpad_type1(&block).ok_or_else(|| openssl("error:02000072:rsa routines::padding check failed"))
        }
        RSA_NO_PADDING => Ok(block),
        _ => Err(bad_padding()),
      }
    }
    "privateDecrypt" | "privateEncrypt" => {
      let Key::Private(Private::Rsa(key)) = key else { return Err(not_rsa()) };
      match (operation, padding) {
        ("privateDecrypt", RSA_PKCS1_OAEP_PADDING) => key
          .decrypt(options.oaep()?, data)
          .map_err(|_| openssl("error:02000079:rsa routines::oaep decoding error")),
        // Node 20 refuses it since CVE-2023-46809 (the Marvin attack on PKCS#1 v1.5 decryption).
        ("privateDecrypt", RSA_PKCS1_PADDING) => Err(JsErrorBox::type_error(concat!(
          "RSA_PKCS1_PADDING is no longer supported for private decryption, ",
          "this can be reverted with --security-revert=CVE-2023-46809"
        ))),
        ("privateEncrypt", RSA_PKCS1_PADDING) => {
          key.sign(rsa::Pkcs1v15Sign::new_unprefixed(), data).map_err(|_| too_large())
        }
        (_, RSA_NO_PADDING) => {
          if data.len() != key.size() {
            return Err(too_large());
          }
          let c = BigUint::from_bytes_be(data);
          let m = rsa::hazmat::rsa_decrypt_and_check(&*key, Some(&mut rng), &c).map_err(|_| too_large())?;
          Ok(left_pad(m.to_bytes_be(), key.size()))
        }
        _ => Err(bad_padding()),
      }
    }
    _ => Err(JsErrorBox::type_error(format!("no RSA operation {operation}"))),
  }
}

fn left_pad(bytes: Vec<u8>, size: usize) -> Vec<u8> {
  let mut out = vec![0; size.saturating_sub(bytes.len())];
  out.extend(bytes);
  out
}

/// `data` (exactly the key's size) raised to the public exponent.
fn raw_public(key: &RsaPublicKey, data: &[u8]) -> Result<Vec<u8>, JsErrorBox> {
  let m = BigUint::from_bytes_be(data);
  if data.len() != key.size() || &m >= key.n() {
    return Err(too_large());
  }
  let c = rsa::hazmat::rsa_encrypt(key, &m).map_err(|_| too_large())?;
  Ok(left_pad(c.to_bytes_be(), key.size()))
}
