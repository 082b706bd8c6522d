//! JSON Web Keys (RFC 7517/7518/8037) of RSA, EC and Ed25519 keys, to and from the keys of
//! `keys.rs`. The JS side orders the members as Node does; `oct` keys never come here
//! (a secret key's JWK is its bytes in base64url).

use base64ct::{Base64UrlUnpadded, Encoding};
use deno_error::JsErrorBox;
use pkcs1::{DecodeRsaPrivateKey, DecodeRsaPublicKey, EncodeRsaPrivateKey};
use pkcs8::der::asn1::UintRef;
use pkcs8::der::Encode;
use rsa::{RsaPrivateKey, RsaPublicKey};
use serde::{Deserialize, Serialize};

use super::keys::{unsupported, with_curve, Curve, Key, Private, Public};

/// A JWK's members, all base64url strings but `kty` and `crv`.
#[derive(Default, Deserialize, Serialize)]
pub struct Jwk {
  kty: String,
  #[serde(skip_serializing_if = "Option::is_none")]
  crv: Option<String>,
  #[serde(skip_serializing_if = "Option::is_none")]
  n: Option<String>,
  #[serde(skip_serializing_if = "Option::is_none")]
  e: Option<String>,
  #[serde(skip_serializing_if = "Option::is_none")]
  d: Option<String>,
  #[serde(skip_serializing_if = "Option::is_none")]
  p: Option<String>,
  #[serde(skip_serializing_if = "Option::is_none")]
  q: Option<String>,
  #[serde(skip_serializing_if = "Option::is_none")]
  dp: Option<String>,
  #[serde(skip_serializing_if = "Option::is_none")]
  dq: Option<String>,
  #[serde(skip_serializing_if = "Option::is_none")]
  qi: Option<String>,
  #[serde(skip_serializing_if = "Option::is_none")]
  x: Option<String>,
  #[serde(skip_serializing_if = "Option::is_none")]
  y: Option<String>,
}

fn encode(bytes: &[u8]) -> Option<String> {
  Some(Base64UrlUnpadded::encode_string(bytes))
}

/// Base64url, forgiving padding and the standard alphabet as OpenSSL does.
fn decode(member: &Option<String>, name: &str) -> Result<Vec<u8>, JsErrorBox> {
  let text = member.as_deref().ok_or_else(|| {
    JsErrorBox::type_error(format!("The \"key.{name}\" property must be of type string. Received undefined"))
  })?;
  let text: String = text
    .trim_end_matches('=')
    .chars()
    .map(|c| {
      if c == '+' {
        '-'
      } else if c == '/' {
        '_'
      } else {
        c
      }
    })
    .collect();
  Base64UrlUnpadded::decode_vec(&text).map_err(|_| JsErrorBox::type_error("Invalid JWK data"))
}

fn integer(bytes: &[u8]) -> Result<UintRef<'_>, JsErrorBox> {
  UintRef::new(bytes).map_err(|_| JsErrorBox::type_error("Invalid JWK RSA key"))
}

/// A big-endian integer padded (or trimmed of leading zeros) to `size` bytes.
fn fixed(bytes: &[u8], size: usize) -> Vec<u8> {
  let bytes = &bytes[bytes.len().saturating_sub(size)..];
  let mut out = vec![0; size - bytes.len()];
  out.extend_from_slice(bytes);
  out
}

impl Jwk {
  pub(super) fn read(&self) -> Result<Key, JsErrorBox> {
    let uint = |member: &Option<String>, name: &str| decode(member, name);
    match self.kty.as_str() {
      "RSA" => {
        let (n, e) = (uint(&self.n, "n")?, uint(&self.e, "e")?);
        if self.d.is_none() {
          let public = pkcs1::RsaPublicKey { modulus: integer(&n)?, public_exponent: integer(&e)? };
          let der = public.to_der().map_err(|_| unsupported())?;
          return Ok(Key::Public(Public::Rsa(
            RsaPublicKey::from_pkcs1_der(&der).map_err(|_| unsupported())?,
          )));
        }
        let parts = [
          uint(&self.d, "d")?,
          uint(&self.p, "p")?,
          uint(&self.q, "q")?,
          uint(&self.dp, "dp")?,
          uint(&self.dq, "dq")?,
          uint(&self.qi, "qi")?,
        ];
        let private = pkcs1::RsaPrivateKey {
          modulus: integer(&n)?,
          public_exponent: integer(&e)?,
          private_exponent: integer(&parts[0])?,
          prime1: integer(&parts[1])?,
          prime2: integer(&parts[2])?,
          exponent1: integer(&parts[3])?,
          exponent2: integer(&parts[4])?,
          coefficient: integer(&parts[5])?,
          other_prime_infos: None,
        };
        let der = private.to_der().map_err(|_| unsupported())?;
        let key =
          RsaPrivateKey::from_pkcs1_der(&der).map_err(|_| JsErrorBox::type_error("Invalid JWK RSA key"))?;
        Ok(Key::Private(Private::Rsa(Box::new(key))))
      }
      "EC" => {
        let name = self.crv.as_deref().unwrap_or_default();
        let curve = Curve::named(name)
          .filter(|curve| curve.jwk_name() == name)
          .ok_or_else(|| JsErrorBox::type_error(format!("Unsupported JWK EC curve: {name}.")))?;
        if self.d.is_some() {
          let scalar = fixed(&uint(&self.d, "d")?, curve.size());
          let valid = with_curve!(curve, m => m::SecretKey::from_slice(&scalar).is_ok());
          if !valid {
            return Err(JsErrorBox::type_error("Invalid JWK EC key"));
          }
          return Ok(Key::Private(Private::Ec(curve, scalar)));
        }
        let mut point = vec![4];
        point.extend(fixed(&uint(&self.x, "x")?, curve.size()));
        point.extend(fixed(&uint(&self.y, "y")?, curve.size()));
        Ok(Key::Public(Public::ec(curve, &point).map_err(|_| JsErrorBox::type_error("Invalid JWK EC key"))?))
      }
      "OKP" if self.crv.as_deref() == Some("Ed25519") => {
        let bytes = uint(if self.d.is_some() { &self.d } else { &self.x }, "x")?;
        let bytes: [u8; 32] =
          bytes.try_into().map_err(|_| JsErrorBox::type_error("Invalid JWK Ed25519 key"))?;
        Ok(if self.d.is_some() {
          Key::Private(Private::Ed25519(bytes))
        } else {
          Key::Public(Public::Ed25519(bytes))
        })
      }
      "OKP" => Err(JsErrorBox::type_error(format!(
        "Unsupported JWK OKP curve: {}.",
        self.crv.as_deref().unwrap_or_default()
      ))),
      kty => Err(JsErrorBox::type_error(format!(
        "The property 'key.kty' must be one of: 'RSA', 'EC', 'OKP'. Received '{kty}'"
      ))),
    }
  }

  pub(super) fn write(key: &Key) -> Jwk {
    let public = match key {
      Key::Private(key) => key.public(),
      Key::Public(Public::Rsa(key)) => Public::Rsa(key.clone()),
      Key::Public(Public::Ec(curve, point)) => Public::Ec(*curve, point.clone()),
      Key::Public(Public::Ed25519(bytes)) => Public::Ed25519(*bytes),
    };
    let mut jwk = match &public {
      Public::Rsa(key) => {
        let der = pkcs1::EncodeRsaPublicKey::to_pkcs1_der(key).expect("an RSA key encodes");
        let parts = pkcs1::RsaPublicKey::try_from(der.as_bytes()).expect("decodes what it encoded");
        Jwk {
          kty: "RSA".into(),
          n: encode(parts.modulus.as_bytes()),
          e: encode(parts.public_exponent.as_bytes()),
          ..Jwk::default()
        }
      }
      Public::Ec(curve, point) => {
        let size = curve.size();
        Jwk {
          kty: "EC".into(),
          crv: Some(curve.jwk_name().into()),
          x: encode(&point[1..1 + size]),
          y: encode(&point[1 + size..]),
          ..Jwk::default()
        }
      }
      Public::Ed25519(bytes) => {
        Jwk { kty: "OKP".into(), crv: Some("Ed25519".into()), x: encode(bytes), ..Jwk::default() }
      }
    };
    match key {
      Key::Private(Private::Rsa(key)) => {
        let der = key.to_pkcs1_der().expect("an RSA key encodes");
        let parts = pkcs1::RsaPrivateKey::try_from(der.as_bytes()).expect("decodes what it encoded");
        jwk.d = encode(parts.private_exponent.as_bytes());
        jwk.p = encode(parts.prime1.as_bytes());
        jwk.q = encode(parts.prime2.as_bytes());
        jwk.dp = encode(parts.exponent1.as_bytes());
        jwk.dq = encode(parts.exponent2.as_bytes());
        jwk.qi = encode(parts.coefficient.as_bytes());
      }
      Key::Private(Private::Ec(_, scalar)) => jwk.d = encode(scalar),
      Key::Private(Private::Ed25519(seed)) => jwk.d = encode(seed),
      Key::Public(_) => {}
    }
    jwk
  }
}
