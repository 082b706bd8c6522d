//! The keys secrets are sealed with: AES-256-GCM (the RustCrypto `aes-gcm` crate, audited by
//! NCC Group). The first key seals; every key opens what it sealed, so a new key can be put
//! first while the old ones still open what is stored, until it has all been sealed again.
//!
//! A sealed secret is `<key id>:<base64 of nonce ‖ ciphertext ‖ tag>`; the key id is the first
//! 8 bytes of the key's SHA-256 (hex), and the worker and secret name are the associated data,
//! so a sealed value cannot be moved to another worker or name.

use aes_gcm::aead::Aead as _;
use aes_gcm::aead::AeadCore as _;
use aes_gcm::aead::KeyInit as _;
use aes_gcm::aead::OsRng;
use aes_gcm::aead::Payload;
use aes_gcm::Aes256Gcm;
use aes_gcm::Nonce;
use base64::Engine as _;
use sha2::Digest as _;

const NONCE_BYTES: usize = 12;

struct Key {
  id: String,
  cipher: Aes256Gcm,
}

/// The node's secret keys, the sealing one first.
pub struct Keyring {
  keys: Vec<Key>,
}

impl std::fmt::Debug for Keyring {
  fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
    let ids: Vec<&str> = self.keys.iter().map(|k| k.id.as_str()).collect();
    f.debug_struct("Keyring").field("key_ids", &ids).finish()
  }
}

impl Keyring {
  /// Keys written as base64 of 32 bytes (`openssl rand -base64 32`), separated by commas,
  /// spaces or new lines; lines starting with `#` are comments. The error never shows a key.
  pub fn parse(text: &str) -> Result<Keyring, String> {
    let mut keys = Vec::new();
    let entries = text
      .lines()
      .filter(|line| !line.trim_start().starts_with('#'))
      .flat_map(|line| line.split([',', ' ', '\t']))
      .filter(|entry| !entry.is_empty());
    for (n, entry) in entries.enumerate() {
      let bytes = base64::engine::general_purpose::STANDARD
        .decode(entry.trim())
        .ok()
        .filter(|bytes| bytes.len() == 32)
        .ok_or_else(|| {
          format!("key {} is not base64 of 32 bytes (make one with `openssl rand -base64 32`)", n + 1)
        })?;
      let id = hex(&sha2::Sha256::digest(&bytes)[..8]);
      let cipher = Aes256Gcm::new_from_slice(&bytes).map_err(|e| e.to_string())?;
      keys.push(Key { id, cipher });
    }
    if keys.is_empty() {
      return Err("no key given".into());
    }
    Ok(Keyring { keys })
  }

  /// The id of the key that seals.
  pub fn current(&self) -> &str {
    &self.keys[0].id
  }

  /// Seals `value` of secret `name` of `worker` with the first key.
  pub fn seal(&self, worker: &str, name: &str, value: &[u8]) -> String {
    let key = &self.keys[0];
    let nonce = Aes256Gcm::generate_nonce(&mut OsRng);
    let aad = associated(worker, name);
    let sealed = key
      .cipher
      .encrypt(&nonce, Payload { msg: value, aad: aad.as_bytes() })
      .expect("AES-GCM seals any value under 64 GiB");
    let mut bytes = nonce.to_vec();
    bytes.extend(sealed);
    format!("{}:{}", key.id, base64::engine::general_purpose::STANDARD.encode(bytes))
  }

  /// Opens what [`Keyring::seal`] made for `worker` and `name`.
  pub fn open(&self, worker: &str, name: &str, sealed: &str) -> Result<Vec<u8>, OpenError> {
    let (id, data) = sealed.split_once(':').ok_or(OpenError::Damaged)?;
    let key = self.keys.iter().find(|k| k.id == id).ok_or_else(|| OpenError::UnknownKey(id.to_owned()))?;
    let bytes = base64::engine::general_purpose::STANDARD.decode(data).map_err(|_| OpenError::Damaged)?;
    if bytes.len() < NONCE_BYTES {
      return Err(OpenError::Damaged);
    }
    let (nonce, ciphertext) = bytes.split_at(NONCE_BYTES);
    let aad = associated(worker, name);
    key
      .cipher
      .decrypt(Nonce::from_slice(nonce), Payload { msg: ciphertext, aad: aad.as_bytes() })
      .map_err(|_| OpenError::Damaged)
  }

  /// Whether `sealed` was sealed with the first key.
  pub fn is_current(&self, sealed: &str) -> bool {
    sealed.split_once(':').is_some_and(|(id, _)| id == self.keys[0].id)
  }
}

/// Why a sealed secret could not be opened.
#[derive(Debug, PartialEq, thiserror::Error)]
pub enum OpenError {
  #[error("it was sealed with key {0}, which this node does not have")]
  UnknownKey(String),
  #[error("it is damaged or was altered")]
  Damaged,
}

fn associated(worker: &str, name: &str) -> String {
  format!("edge-secret\0{worker}\0{name}")
}

fn hex(bytes: &[u8]) -> String {
  bytes.iter().map(|b| format!("{b:02x}")).collect()
}

#[cfg(test)]
mod tests {
  use super::*;

  const OLD: &str = "AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8=";
  const NEW: &str = "HxwdHhscGRoXGBUWExQREg8QDQ4LDAkKBwgFBgMEAQI=";

  #[test]
  fn sealed_values_open_with_any_key_of_the_ring_and_only_in_their_place() {
    let old = Keyring::parse(OLD).unwrap();
    let sealed = old.seal("shop", "API_KEY", b"sk_live_123");
    assert!(!sealed.contains("sk_live_123"));
    assert_eq!(old.open("shop", "API_KEY", &sealed).unwrap(), b"sk_live_123");
    assert_eq!(old.open("other", "API_KEY", &sealed), Err(OpenError::Damaged), "bound to its worker");
    assert_eq!(old.open("shop", "OTHER", &sealed), Err(OpenError::Damaged), "bound to its name");

    let rotated = Keyring::parse(&format!("# new first\n{NEW}\n{OLD}\n")).unwrap();
    assert!(!rotated.is_current(&sealed));
    assert_eq!(rotated.open("shop", "API_KEY", &sealed).unwrap(), b"sk_live_123");
    let resealed = rotated.seal("shop", "API_KEY", b"sk_live_123");
    assert!(rotated.is_current(&resealed));
    assert!(matches!(old.open("shop", "API_KEY", &resealed), Err(OpenError::UnknownKey(_))));

    let mut tampered = resealed.clone();
    tampered.pop();
    tampered.push(if resealed.ends_with('A') { 'B' } else { 'A' });
    assert!(rotated.open("shop", "API_KEY", &tampered).is_err());
  }

  #[test]
  fn bad_keys_are_refused_without_showing_them() {
    let error = Keyring::parse("c2hvcnQ=").unwrap_err();
    assert_eq!(error, "key 1 is not base64 of 32 bytes (make one with `openssl rand -base64 32`)");
    assert_eq!(Keyring::parse("# nothing\n").unwrap_err(), "no key given");
  }
}
