//! Asymmetric keys: RSA, EC (P-256, P-384, P-521) and Ed25519, read from PEM, DER (PKCS#1,
//! PKCS#8, SPKI, SEC1, X.509 certificates) or JWK, and written back to any of them.
//!
//! The JS `KeyObject` holds a key as one normal form, DER bytes: PKCS#8 for a private key,
//! SPKI for a public one. `op_edge_node_key_import` turns whatever Node accepts into that
//! form plus the key's description (`asymmetricKeyType`, `asymmetricKeyDetails`); every other
//! op takes the normal form back and parses it again, which costs microseconds and keeps no
//! key material in Rust between calls.

use deno_core::{op2, JsBuffer, ToJsBuffer};
use deno_error::JsErrorBox;
use pkcs1::{DecodeRsaPrivateKey, DecodeRsaPublicKey, EncodeRsaPrivateKey, EncodeRsaPublicKey};
use pkcs8::der::asn1::{AnyRef, BitStringRef, OctetStringRef};
use pkcs8::der::{Decode, Encode, SliceReader, Tag, Tagged};
use pkcs8::{DecodePrivateKey, DecodePublicKey, EncodePrivateKey, EncodePublicKey, ObjectIdentifier};
use rsa::traits::PublicKeyParts;
use rsa::{RsaPrivateKey, RsaPublicKey};
use serde::{Deserialize, Serialize};

use super::jwk::Jwk;

const RSA_OID: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.2.840.113549.1.1.1");
const EC_OID: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.2.840.10045.2.1");
const ED25519_OID: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.3.101.112");

/// The NIST curves, by the names Node gives them.
#[derive(Clone, Copy, Debug, PartialEq)]
pub(super) enum Curve {
  P256,
  P384,
  P521,
}

/// Runs `$body` with `$m` standing for the RustCrypto crate of `$curve` (`p256`, ...).
macro_rules! with_curve {
  ($curve:expr, $m:ident => $body:expr) => {
    match $curve {
      $crate::node_ops::crypto::keys::Curve::P256 => {
        use p256 as $m;
        $body
      }
      $crate::node_ops::crypto::keys::Curve::P384 => {
        use p384 as $m;
        $body
      }
      $crate::node_ops::crypto::keys::Curve::P521 => {
        use p521 as $m;
        $body
      }
    }
  };
}
pub(super) use with_curve;

impl Curve {
  const ALL: [Curve; 3] = [Curve::P256, Curve::P384, Curve::P521];

  fn oid(self) -> ObjectIdentifier {
    ObjectIdentifier::new_unwrap(match self {
      Curve::P256 => "1.2.840.10045.3.1.7",
      Curve::P384 => "1.3.132.0.34",
      Curve::P521 => "1.3.132.0.35",
    })
  }

  /// OpenSSL's name, which Node's `asymmetricKeyDetails.namedCurve` gives.
  fn node_name(self) -> &'static str {
    match self {
      Curve::P256 => "prime256v1",
      Curve::P384 => "secp384r1",
      Curve::P521 => "secp521r1",
    }
  }

  pub fn jwk_name(self) -> &'static str {
    match self {
      Curve::P256 => "P-256",
      Curve::P384 => "P-384",
      Curve::P521 => "P-521",
    }
  }

  /// The bytes of a scalar or a coordinate.
  pub fn size(self) -> usize {
    match self {
      Curve::P256 => 32,
      Curve::P384 => 48,
      Curve::P521 => 66,
    }
  }

  pub fn named(name: &str) -> Option<Curve> {
    Curve::ALL.into_iter().find(|curve| {
      [curve.node_name(), curve.jwk_name()].contains(&name) || (*curve == Curve::P256 && name == "secp256r1")
    })
  }

  fn of_oid(oid: ObjectIdentifier) -> Result<Curve, JsErrorBox> {
    Curve::ALL.into_iter().find(|curve| curve.oid() == oid).ok_or_else(unsupported)
  }
}

/// A private key, parsed.
pub(super) enum Private {
  Rsa(Box<RsaPrivateKey>),
  /// The curve and the secret scalar (big-endian, the curve's size).
  Ec(Curve, Vec<u8>),
  /// The 32-byte seed.
  Ed25519([u8; 32]),
}

/// A public key, parsed.
pub(super) enum Public {
  Rsa(RsaPublicKey),
  /// The curve and the uncompressed SEC1 point.
  Ec(Curve, Vec<u8>),
  Ed25519([u8; 32]),
}

/// OpenSSL's words when a key cannot be read, as Node passes them on.
pub(super) fn unsupported() -> JsErrorBox {
  JsErrorBox::generic("error:1E08010C:DECODER routines::unsupported")
}

fn invalid<E>(_: E) -> JsErrorBox {
  unsupported()
}

impl Private {
  pub fn from_pkcs8(der: &[u8]) -> Result<Private, JsErrorBox> {
    let info = pkcs8::PrivateKeyInfo::try_from(der).map_err(invalid)?;
    match info.algorithm.oid {
      RSA_OID => Ok(Private::Rsa(Box::new(RsaPrivateKey::from_pkcs8_der(der).map_err(invalid)?))),
      EC_OID => {
        let curve = Curve::of_oid(info.algorithm.parameters_oid().map_err(invalid)?)?;
        let scalar =
          with_curve!(curve, m => m::SecretKey::from_pkcs8_der(der).map_err(invalid)?.to_bytes().to_vec());
        Ok(Private::Ec(curve, scalar))
      }
      ED25519_OID => {
        let seed = OctetStringRef::from_der(info.private_key).map_err(invalid)?;
        Ok(Private::Ed25519(seed.as_bytes().try_into().map_err(invalid)?))
      }
      _ => Err(unsupported()),
    }
  }

  fn from_sec1(der: &[u8]) -> Result<Private, JsErrorBox> {
    let key = sec1::EcPrivateKey::try_from(der).map_err(invalid)?;
    let oid = key.parameters.and_then(|p| p.named_curve()).ok_or_else(unsupported)?;
    let curve = Curve::of_oid(oid)?;
    let scalar =
      with_curve!(curve, m => m::SecretKey::from_sec1_der(der).map_err(invalid)?.to_bytes().to_vec());
    Ok(Private::Ec(curve, scalar))
  }

  fn from_der(der: &[u8], kind: &str) -> Result<Private, JsErrorBox> {
    match kind {
      "pkcs8" => Private::from_pkcs8(der),
      "pkcs1" => Ok(Private::Rsa(Box::new(RsaPrivateKey::from_pkcs1_der(der).map_err(invalid)?))),
      "sec1" => Private::from_sec1(der),
      _ => Err(unsupported()),
    }
  }

  pub fn public(&self) -> Public {
    match self {
      Private::Rsa(key) => Public::Rsa(key.to_public_key()),
      Private::Ec(curve, scalar) => Public::Ec(
        *curve,
        with_curve!(curve, m => {
          use m::elliptic_curve::sec1::ToEncodedPoint;
          let key = m::SecretKey::from_slice(scalar).expect("a valid scalar");
          key.public_key().to_encoded_point(false).as_bytes().to_vec()
        }),
      ),
      Private::Ed25519(seed) => {
        let pair = ring::signature::Ed25519KeyPair::from_seed_unchecked(seed).expect("32 bytes");
        let public = ring::signature::KeyPair::public_key(&pair);
        Public::Ed25519(public.as_ref().try_into().expect("32 bytes"))
      }
    }
  }

  pub fn to_pkcs8(&self) -> Vec<u8> {
    match self {
      Private::Rsa(key) => key.to_pkcs8_der().expect("an RSA key encodes").as_bytes().to_vec(),
      Private::Ec(curve, scalar) => with_curve!(curve, m => {
        let key = m::SecretKey::from_slice(scalar).expect("a valid scalar");
        key.to_pkcs8_der().expect("an EC key encodes").as_bytes().to_vec()
      }),
      Private::Ed25519(seed) => {
        let seed = OctetStringRef::new(seed).expect("32 bytes").to_der().expect("encodes");
        let algorithm = pkcs8::AlgorithmIdentifierRef { oid: ED25519_OID, parameters: None };
        pkcs8::PrivateKeyInfo::new(algorithm, &seed).to_der().expect("encodes")
      }
    }
  }

  /// SEC1's `ECPrivateKey` with the curve and the public point, as OpenSSL writes it.
  fn to_sec1(&self) -> Result<Vec<u8>, JsErrorBox> {
    let Private::Ec(curve, scalar) = self else {
      return Err(incompatible("sec1", "EC"));
    };
    let Public::Ec(_, point) = self.public() else { unreachable!("an EC key has an EC point") };
    let key = sec1::EcPrivateKey {
      private_key: scalar,
      parameters: Some(sec1::EcParameters::NamedCurve(curve.oid())),
      public_key: Some(&point),
    };
    Ok(key.to_der().expect("encodes"))
  }

  fn describe(&self) -> KeyDescription {
    KeyDescription { key_type: "private", der: self.to_pkcs8().into(), ..self.public().describe() }
  }
}

impl Public {
  pub fn from_spki(der: &[u8]) -> Result<Public, JsErrorBox> {
    let info = spki::SubjectPublicKeyInfoRef::try_from(der).map_err(invalid)?;
    match info.algorithm.oid {
      RSA_OID => Ok(Public::Rsa(RsaPublicKey::from_public_key_der(der).map_err(invalid)?)),
      EC_OID => {
        let curve = Curve::of_oid(info.algorithm.parameters_oid().map_err(invalid)?)?;
        Public::ec(curve, info.subject_public_key.raw_bytes())
      }
      ED25519_OID => Ok(Public::Ed25519(info.subject_public_key.raw_bytes().try_into().map_err(invalid)?)),
      _ => Err(unsupported()),
    }
  }

  /// The key of `point` (SEC1, either form), checked to be on the curve.
  pub fn ec(curve: Curve, point: &[u8]) -> Result<Public, JsErrorBox> {
    let point = with_curve!(curve, m => {
      use m::elliptic_curve::sec1::ToEncodedPoint;
      m::PublicKey::from_sec1_bytes(point).map_err(invalid)?.to_encoded_point(false).as_bytes().to_vec()
    });
    Ok(Public::Ec(curve, point))
  }

  fn from_der(der: &[u8], kind: &str) -> Result<Public, JsErrorBox> {
    match kind {
      "spki" => Public::from_spki(der),
      "pkcs1" => Ok(Public::Rsa(RsaPublicKey::from_pkcs1_der(der).map_err(invalid)?)),
      _ => Err(unsupported()),
    }
  }

  pub fn to_spki(&self) -> Vec<u8> {
    match self {
      Public::Rsa(key) => key.to_public_key_der().expect("an RSA key encodes").as_bytes().to_vec(),
      Public::Ec(curve, point) => with_curve!(curve, m => {
        let key = m::PublicKey::from_sec1_bytes(point).expect("a valid point");
        key.to_public_key_der().expect("an EC key encodes").as_bytes().to_vec()
      }),
      Public::Ed25519(key) => {
        let info = spki::SubjectPublicKeyInfoRef {
          algorithm: spki::AlgorithmIdentifierRef { oid: ED25519_OID, parameters: None },
          subject_public_key: BitStringRef::from_bytes(key).expect("32 bytes"),
        };
        info.to_der().expect("encodes")
      }
    }
  }

  fn describe(&self) -> KeyDescription {
    let (asymmetric_key_type, modulus_length, public_exponent, named_curve) = match self {
      Public::Rsa(key) => ("rsa", Some(key.n().bits()), Some(key.e().to_string()), None),
      Public::Ec(curve, _) => ("ec", None, None, Some(curve.node_name())),
      Public::Ed25519(_) => ("ed25519", None, None, None),
    };
    KeyDescription {
      key_type: "public",
      asymmetric_key_type,
      der: self.to_spki().into(),
      modulus_length,
      public_exponent,
      named_curve,
    }
  }
}

fn incompatible(encoding: &str, kind: &str) -> JsErrorBox {
  JsErrorBox::generic(format!("The selected key encoding {encoding} can only be used for {kind} keys."))
}

/// A key as it was read: private or public.
pub(super) enum Key {
  Private(Private),
  Public(Public),
}

/// The SPKI inside an X.509 certificate (`Certificate` → `tbsCertificate` → its seventh
/// field, or sixth without the optional version).
fn certificate_spki(der: &[u8]) -> Result<Vec<u8>, JsErrorBox> {
  fn fields(der: &[u8]) -> Result<Vec<AnyRef<'_>>, pkcs8::der::Error> {
    let outer = AnyRef::from_der(der)?;
    let mut reader = SliceReader::new(outer.value())?;
    let mut fields = Vec::new();
    while !pkcs8::der::Reader::is_finished(&reader) {
      fields.push(pkcs8::der::Decode::decode(&mut reader)?);
    }
    Ok(fields)
  }
  let certificate = fields(der).map_err(invalid)?;
  let tbs = certificate.first().ok_or_else(unsupported)?.to_der().map_err(invalid)?;
  let tbs = fields(&tbs).map_err(invalid)?;
  let skip = if tbs.first().is_some_and(|field| field.tag() != Tag::Integer) { 6 } else { 5 };
  tbs.get(skip).ok_or_else(unsupported)?.to_der().map_err(invalid)
}

/// Reads PEM text: the first block that holds a key (or a certificate).
fn read_pem(text: &[u8], passphrase: Option<&[u8]>) -> Result<Key, JsErrorBox> {
  let text = std::str::from_utf8(text).map_err(invalid)?;
  for (at, _) in text.match_indices("-----BEGIN ") {
    let Some(end) = text[at..].find("-----END ") else { break };
    let Some(close) = text[at + end + 9..].find("-----") else { break };
    let block = &text[at..at + end + 9 + close + 5];
    let Ok((label, der)) = pkcs8::der::pem::decode_vec(block.as_bytes()) else {
      // OpenSSL's own encrypted PEM (with `Proc-Type` headers) lands here.
      continue;
    };
    return Ok(match label {
      "PRIVATE KEY" => Key::Private(Private::from_pkcs8(&der)?),
      "RSA PRIVATE KEY" => Key::Private(Private::from_der(&der, "pkcs1")?),
      "EC PRIVATE KEY" => Key::Private(Private::from_sec1(&der)?),
      "ENCRYPTED PRIVATE KEY" => Key::Private(decrypt_pkcs8(&der, passphrase)?),
      "PUBLIC KEY" => Key::Public(Public::from_spki(&der)?),
      "RSA PUBLIC KEY" => Key::Public(Public::from_der(&der, "pkcs1")?),
      "CERTIFICATE" => Key::Public(Public::from_spki(&certificate_spki(&der)?)?),
      _ => continue,
    });
  }
  Err(unsupported())
}

fn decrypt_pkcs8(der: &[u8], passphrase: Option<&[u8]>) -> Result<Private, JsErrorBox> {
  let Some(passphrase) = passphrase else {
    // What OpenSSL 3 says (through Node 20) when it would have to ask for a passphrase.
    return Err(JsErrorBox::generic("error:07880109:common libcrypto routines::interrupted or cancelled"));
  };
  let info = pkcs8::EncryptedPrivateKeyInfo::try_from(der).map_err(invalid)?;
  let plain = info
    .decrypt(passphrase)
    .map_err(|_| JsErrorBox::generic("error:1C800064:Provider routines::bad decrypt"))?;
  Private::from_pkcs8(plain.as_bytes())
}

/// Where a key comes from: `op_edge_node_key_import`'s options.
#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct KeySource {
  /// `private` (createPrivateKey) or `public` (createPublicKey, which also takes a private
  /// key and gives its public half).
  want: String,
  /// `pem`, `der` or `jwk`.
  format: String,
  /// For DER: `pkcs1`, `pkcs8`, `spki` or `sec1`.
  #[serde(rename = "type")]
  kind: Option<String>,
  passphrase: Option<JsBuffer>,
  jwk: Option<Jwk>,
}

/// A key in its normal form, with what Node tells of it.
#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
pub struct KeyDescription {
  /// `private` or `public`.
  #[serde(rename = "type")]
  key_type: &'static str,
  /// `rsa`, `ec` or `ed25519`.
  asymmetric_key_type: &'static str,
  /// PKCS#8 (private) or SPKI (public) DER.
  der: ToJsBuffer,
  #[serde(skip_serializing_if = "Option::is_none")]
  modulus_length: Option<usize>,
  /// Decimal (JS makes it a BigInt).
  #[serde(skip_serializing_if = "Option::is_none")]
  public_exponent: Option<String>,
  #[serde(skip_serializing_if = "Option::is_none")]
  named_curve: Option<&'static str>,
}

/// Reads the key `data` (PEM text or DER bytes) or `source.jwk` into its normal form.
#[op2]
#[serde]
pub fn op_edge_node_key_import(
  #[serde] source: KeySource,
  #[buffer] data: &[u8],
) -> Result<KeyDescription, JsErrorBox> {
  let key = match source.format.as_str() {
    "jwk" => source.jwk.ok_or_else(unsupported)?.read()?,
    "der" => {
      let kind = source.kind.as_deref().unwrap_or_default();
      match (kind, source.want.as_str()) {
        ("spki", _) => Key::Public(Public::from_der(data, kind)?),
        ("pkcs1", "public") => match Private::from_der(data, kind) {
          Ok(key) => Key::Private(key),
          Err(_) => Key::Public(Public::from_der(data, kind)?),
        },
        ("pkcs8", _) if pkcs8::EncryptedPrivateKeyInfo::try_from(data).is_ok() => {
          Key::Private(decrypt_pkcs8(data, source.passphrase.as_deref())?)
        }
        _ => Key::Private(Private::from_der(data, kind)?),
      }
    }
    _ => read_pem(data, source.passphrase.as_deref())?,
  };
  Ok(match (key, source.want.as_str()) {
    (Key::Private(key), "private") => key.describe(),
    (Key::Private(key), _) => key.public().describe(),
    (Key::Public(key), "public") => key.describe(),
    // A public key where a private one is asked for: OpenSSL finds no private key in it.
    (Key::Public(_), _) => return Err(unsupported()),
  })
}

/// How to write a key out: `KeyObject.export`'s options.
#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct KeyExport {
  /// `pem`, `der` or `jwk`.
  format: String,
  /// `pkcs1`, `pkcs8`, `spki` or `sec1` (not for JWK).
  #[serde(rename = "type")]
  kind: Option<String>,
  cipher: Option<String>,
  passphrase: Option<JsBuffer>,
}

/// A key written out: PEM text, DER bytes or a JWK.
#[derive(Serialize)]
#[serde(untagged)]
pub enum Exported {
  Text(String),
  Bytes(ToJsBuffer),
  Jwk(Box<Jwk>),
}

/// Reads back a key in its normal form (PKCS#8 if `private`, else SPKI).
pub(super) fn normal(private: bool, der: &[u8]) -> Result<Key, JsErrorBox> {
  Ok(if private { Key::Private(Private::from_pkcs8(der)?) } else { Key::Public(Public::from_spki(der)?) })
}

/// Writes the key `der` (normal form; PKCS#8 if `private`, else SPKI) as `options` ask.
#[op2]
#[serde]
pub fn op_edge_node_key_export(
  private: bool,
  #[buffer] der: &[u8],
  #[serde] options: KeyExport,
) -> Result<Exported, JsErrorBox> {
  let key = normal(private, der)?;
  if options.format == "jwk" {
    return Ok(Exported::Jwk(Box::new(Jwk::write(&key))));
  }
  let kind = options.kind.as_deref().unwrap_or_default();
  let (label, bytes) = match (&key, kind) {
    (Key::Private(key), "pkcs8") => ("PRIVATE KEY", key.to_pkcs8()),
    (Key::Private(Private::Rsa(key)), "pkcs1") => {
      ("RSA PRIVATE KEY", key.to_pkcs1_der().expect("an RSA key encodes").as_bytes().to_vec())
    }
    (Key::Private(key), "sec1") => ("EC PRIVATE KEY", key.to_sec1()?),
    (Key::Public(key), "spki") => ("PUBLIC KEY", key.to_spki()),
    (Key::Public(Public::Rsa(key)), "pkcs1") => {
      ("RSA PUBLIC KEY", key.to_pkcs1_der().expect("an RSA key encodes").as_bytes().to_vec())
    }
    (_, "pkcs1") => return Err(incompatible("pkcs1", "RSA")),
    _ => {
      return Err(JsErrorBox::type_error(format!(
        "The property 'options.type' is invalid. Received '{kind}'"
      )));
    }
  };
  let (label, bytes) = match options.cipher.as_deref() {
    None => (label, bytes),
    Some(cipher) if kind == "pkcs8" => (
      "ENCRYPTED PRIVATE KEY",
      encrypt_pkcs8(&bytes, cipher, options.passphrase.as_deref().unwrap_or_default())?,
    ),
    // OpenSSL's own PEM encryption (Proc-Type headers) is not written here.
    Some(cipher) => {
      return Err(JsErrorBox::generic(format!("Encrypting {kind} keys with {cipher} is not supported")))
    }
  };
  Ok(match options.format.as_str() {
    "der" => Exported::Bytes(bytes.into()),
    _ => {
      Exported::Text(pkcs8::der::pem::encode_string(label, pkcs8::LineEnding::LF, &bytes).expect("encodes"))
    }
  })
}

/// PKCS#8 encrypted as OpenSSL 3 does by default: PBES2, PBKDF2-HMAC-SHA256 (2048 rounds).
fn encrypt_pkcs8(der: &[u8], cipher: &str, passphrase: &[u8]) -> Result<Vec<u8>, JsErrorBox> {
  use rand::RngCore;
  let mut salt = [0u8; 16];
  let mut iv = [0u8; 16];
  rand::thread_rng().fill_bytes(&mut salt);
  rand::thread_rng().fill_bytes(&mut iv);
  let params = match cipher.to_ascii_lowercase().as_str() {
    "aes-128-cbc" | "aes128" => pkcs8::pkcs5::pbes2::Parameters::pbkdf2_sha256_aes128cbc(2048, &salt, &iv),
    "aes-256-cbc" | "aes256" => pkcs8::pkcs5::pbes2::Parameters::pbkdf2_sha256_aes256cbc(2048, &salt, &iv),
    _ => return Err(JsErrorBox::type_error(format!("Unknown cipher: {cipher}"))),
  }
  .map_err(|e| JsErrorBox::generic(e.to_string()))?;
  let document = pkcs8::PrivateKeyInfo::try_from(der).map_err(invalid)?;
  let sealed =
    document.encrypt_with_params(params, passphrase).map_err(|e| JsErrorBox::generic(e.to_string()))?;
  Ok(sealed.as_bytes().to_vec())
}

/// `generateKeyPair`'s options.
#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct KeyGeneration {
  modulus_length: Option<usize>,
  public_exponent: Option<u64>,
  named_curve: Option<String>,
}

/// A new private key of `kind` (`rsa`, `ec`, `ed25519`), in its normal form.
#[op2]
#[serde]
pub fn op_edge_node_key_generate(
  #[string] kind: &str,
  #[serde] options: KeyGeneration,
) -> Result<KeyDescription, JsErrorBox> {
  let mut rng = rand::thread_rng();
  let key = match kind {
    "rsa" => {
      let bits = options.modulus_length.unwrap_or(2048);
      let exponent = rsa::BigUint::from(options.public_exponent.unwrap_or(65537));
      let key = RsaPrivateKey::new_with_exp(&mut rng, bits, &exponent)
        .map_err(|e| JsErrorBox::generic(e.to_string()))?;
      Private::Rsa(Box::new(key))
    }
    "ec" => {
      let name = options.named_curve.unwrap_or_default();
      let curve = Curve::named(&name).ok_or_else(|| JsErrorBox::type_error("Invalid EC curve name"))?;
      Private::Ec(curve, with_curve!(curve, m => m::SecretKey::random(&mut rng).to_bytes().to_vec()))
    }
    "ed25519" => {
      let mut seed = [0u8; 32];
      rand::RngCore::fill_bytes(&mut rng, &mut seed);
      Private::Ed25519(seed)
    }
    _ => {
      return Err(JsErrorBox::type_error(format!(
        "The argument 'type' must be a supported key type. Received '{kind}'"
      )))
    }
  };
  Ok(key.describe())
}
