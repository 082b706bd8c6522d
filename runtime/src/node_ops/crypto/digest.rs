//! The message digests that signatures, RSA padding and key derivation use, by Node's
//! (OpenSSL's) names. `hash.rs` has its own table for `createHash`; this one also gives the
//! RustCrypto type of each digest to the generic code of `rsa`, `hkdf` and `pbkdf2`.

use pkcs8::ObjectIdentifier;

/// A digest `node:crypto`'s signatures and key derivations offer.
#[derive(Clone, Copy, Debug, PartialEq)]
pub(super) enum Digest {
  Md5,
  Sha1,
  Sha224,
  Sha256,
  Sha384,
  Sha512,
}

/// Runs `$body` with `$D` standing for the RustCrypto type of `$digest`.
macro_rules! with_digest {
  ($digest:expr, $D:ident => $body:expr) => {
    match $digest {
      $crate::node_ops::crypto::digest::Digest::Md5 => {
        type $D = md5::Md5;
        $body
      }
      $crate::node_ops::crypto::digest::Digest::Sha1 => {
        type $D = sha1::Sha1;
        $body
      }
      $crate::node_ops::crypto::digest::Digest::Sha224 => {
        type $D = sha2::Sha224;
        $body
      }
      $crate::node_ops::crypto::digest::Digest::Sha256 => {
        type $D = sha2::Sha256;
        $body
      }
      $crate::node_ops::crypto::digest::Digest::Sha384 => {
        type $D = sha2::Sha384;
        $body
      }
      $crate::node_ops::crypto::digest::Digest::Sha512 => {
        type $D = sha2::Sha512;
        $body
      }
    }
  };
}
pub(super) use with_digest;

impl Digest {
  /// The digest called `name`: OpenSSL's names and aliases (`sha256`, `SHA-256`, `RSA-SHA256`,
  /// `sha256WithRSAEncryption`), any case.
  pub fn of(name: &str) -> Option<Digest> {
    let name = name.to_ascii_lowercase();
    let name = name.strip_prefix("rsa-").unwrap_or(&name);
    let name = name.strip_suffix("withrsaencryption").unwrap_or(name);
    Some(match name {
      "md5" => Digest::Md5,
      "sha1" | "sha-1" | "sha1-2" | "ssl3-sha1" => Digest::Sha1,
      "sha224" | "sha-224" | "sha2-224" => Digest::Sha224,
      "sha256" | "sha-256" | "sha2-256" => Digest::Sha256,
      "sha384" | "sha-384" | "sha2-384" => Digest::Sha384,
      "sha512" | "sha-512" | "sha2-512" => Digest::Sha512,
      _ => return None,
    })
  }

  /// The digest `name` names, or Node's error for a name it does not know (`Invalid digest`,
  /// as `createSign` says it).
  pub fn named(name: &str) -> Result<Digest, deno_error::JsErrorBox> {
    Digest::of(name).ok_or_else(|| deno_error::JsErrorBox::type_error("Invalid digest"))
  }

  pub fn hash(self, data: &[u8]) -> Vec<u8> {
    with_digest!(self, D => <D as sha2::Digest>::digest(data).to_vec())
  }

  pub fn size(self) -> usize {
    with_digest!(self, D => <D as sha2::Digest>::output_size())
  }

  fn oid(self) -> ObjectIdentifier {
    ObjectIdentifier::new_unwrap(match self {
      Digest::Md5 => "1.2.840.113549.2.5",
      Digest::Sha1 => "1.3.14.3.2.26",
      Digest::Sha224 => "2.16.840.1.101.3.4.2.4",
      Digest::Sha256 => "2.16.840.1.101.3.4.2.1",
      Digest::Sha384 => "2.16.840.1.101.3.4.2.2",
      Digest::Sha512 => "2.16.840.1.101.3.4.2.3",
    })
  }

  /// RSASSA-PKCS1-v1_5 with this digest: the DER `DigestInfo` header that precedes the hash
  /// (RFC 8017, 9.2), built from the digest's OID.
  pub fn pkcs1v15(self) -> rsa::Pkcs1v15Sign {
    let oid = self.oid();
    let oid = oid.as_bytes();
    let size = self.size();
    // SEQUENCE { SEQUENCE { OID, NULL }, OCTET STRING (the hash follows) }
    let algorithm_len = 2 + oid.len() + 2;
    let mut prefix = vec![0x30, (2 + algorithm_len + 2 + size) as u8, 0x30, algorithm_len as u8];
    prefix.extend_from_slice(&[0x06, oid.len() as u8]);
    prefix.extend_from_slice(oid);
    prefix.extend_from_slice(&[0x05, 0x00, 0x04, size as u8]);
    rsa::Pkcs1v15Sign { hash_len: Some(size), prefix: prefix.into_boxed_slice() }
  }

  /// RSASSA-PSS with this digest (also for MGF1) and a salt of `salt` bytes.
  pub fn pss(self, salt: usize) -> rsa::Pss {
    with_digest!(self, D => rsa::Pss::new_with_salt::<D>(salt))
  }

  /// RSAES-OAEP with this digest (also for MGF1) and `label`.
  pub fn oaep(self, label: Option<String>) -> rsa::Oaep {
    with_digest!(self, D => match label {
      Some(label) => rsa::Oaep::new_with_label::<D, _>(label),
      None => rsa::Oaep::new::<D>(),
    })
  }

  /// A running hash of this digest, for MGF1.
  pub fn hasher(self) -> Box<dyn sha2::digest::DynDigest> {
    with_digest!(self, D => Box::new(<D as sha2::Digest>::new()))
  }
}
