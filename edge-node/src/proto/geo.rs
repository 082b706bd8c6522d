//! Geo data for workers (`request.cf`), as the router signs it and a node checks it.
//!
//! The router sends `x-edge-geo: <base64url of the JSON>` and
//! `x-edge-geo-signature: t=<unix seconds>,v1=<hex HMAC-SHA256(key, "<t>.<x-edge-geo>")>`.
//! A node with the same `geo_key` accepts the data when the signature matches and `t` is
//! within [`MAX_AGE_SECS`] of its clock, and hands it to the worker as `request.cf` through
//! the internal header [`CF_HEADER`] (the runtime's bootstrap turns it into the property and
//! removes it). These headers from anyone else are dropped, so a client cannot spoof them.

use base64::Engine as _;
use hmac::Mac as _;
use http::HeaderMap;
use http::HeaderValue;
use serde::Deserialize;
use serde::Serialize;

/// The geo data, base64url JSON.
pub const GEO_HEADER: &str = "x-edge-geo";
/// Its signature: `t=<unix seconds>,v1=<hex HMAC-SHA256>`.
pub const SIGNATURE_HEADER: &str = "x-edge-geo-signature";
/// What the worker's bootstrap reads into `request.cf` (JSON), set by the node only.
pub const CF_HEADER: &str = "x-edge-cf";
/// How far a signature's time may be from the node's clock.
pub const MAX_AGE_SECS: u64 = 300;

type HmacSha256 = hmac::Hmac<sha2::Sha256>;

/// What a worker sees as `request.cf`: Cloudflare's field names.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct Cf {
  #[serde(skip_serializing_if = "Option::is_none")]
  pub country: Option<String>,
  #[serde(skip_serializing_if = "Option::is_none")]
  pub city: Option<String>,
  /// The region (subdivision) code, such as `HE` or `VA`.
  #[serde(skip_serializing_if = "Option::is_none", rename = "regionCode")]
  pub region_code: Option<String>,
  #[serde(skip_serializing_if = "Option::is_none")]
  pub region: Option<String>,
  /// Cloudflare gives these as strings.
  #[serde(skip_serializing_if = "Option::is_none")]
  pub latitude: Option<String>,
  #[serde(skip_serializing_if = "Option::is_none")]
  pub longitude: Option<String>,
  #[serde(skip_serializing_if = "Option::is_none")]
  pub timezone: Option<String>,
  /// The serving node's region code (`fra`, `iad`, `sin`).
  #[serde(skip_serializing_if = "Option::is_none")]
  pub colo: Option<String>,
}

fn mac(key: &[u8], timestamp: u64, payload: &str) -> HmacSha256 {
  let mut mac = HmacSha256::new_from_slice(key).expect("HMAC takes a key of any length");
  mac.update(timestamp.to_string().as_bytes());
  mac.update(b".");
  mac.update(payload.as_bytes());
  mac
}

/// The two headers that carry `cf` to a node sharing `key`, signed at `now` (unix seconds).
pub fn sign(key: &[u8], cf: &Cf, now: u64) -> (HeaderValue, HeaderValue) {
  let json = serde_json::to_vec(cf).expect("plain data serialises");
  let payload = base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(json);
  let digest = mac(key, now, &payload).finalize().into_bytes();
  let hex: String = digest.iter().map(|b| format!("{b:02x}")).collect();
  let signature = format!("t={now},v1={hex}");
  (
    HeaderValue::from_str(&payload).expect("base64 is a valid header value"),
    HeaderValue::from_str(&signature).expect("ASCII is a valid header value"),
  )
}

/// On a node: removes the geo headers from a request and, when they carry a valid signature
/// under `key`, puts their data in [`CF_HEADER`] for the worker. Returns whether it did.
pub fn accept(key: Option<&[u8]>, headers: &mut HeaderMap) -> bool {
  let any = [GEO_HEADER, SIGNATURE_HEADER, CF_HEADER].iter().any(|name| headers.contains_key(*name));
  any && accept_at(key, headers, now())
}

/// [`accept`] at the time `now` (unix seconds).
pub fn accept_at(key: Option<&[u8]>, headers: &mut HeaderMap, now: u64) -> bool {
  let payload = headers.remove(GEO_HEADER);
  let signature = headers.remove(SIGNATURE_HEADER);
  headers.remove(CF_HEADER);
  let (Some(key), Some(payload), Some(signature)) = (key, payload, signature) else { return false };
  let (Ok(payload), Ok(signature)) = (payload.to_str(), signature.to_str()) else { return false };
  let Some(json) = verify(key, payload, signature, now) else { return false };
  match HeaderValue::from_str(&json) {
    Ok(value) => {
      headers.insert(CF_HEADER, value);
      true
    }
    Err(_) => false,
  }
}

/// The JSON of a validly signed, fresh payload.
fn verify(key: &[u8], payload: &str, signature: &str, now: u64) -> Option<String> {
  let mut timestamp = None;
  let mut digest = None;
  for part in signature.split(',') {
    match part.split_once('=') {
      Some(("t", t)) => timestamp = t.parse::<u64>().ok(),
      Some(("v1", hex)) => digest = decode_hex(hex),
      _ => {}
    }
  }
  let (timestamp, digest) = (timestamp?, digest?);
  if now.abs_diff(timestamp) > MAX_AGE_SECS {
    return None;
  }
  mac(key, timestamp, payload).verify_slice(&digest).ok()?;
  let json = base64::engine::general_purpose::URL_SAFE_NO_PAD.decode(payload).ok()?;
  // Only what parses as geo data goes on, re-serialised.
  let cf: Cf = serde_json::from_slice(&json).ok()?;
  serde_json::to_string(&cf).ok()
}

fn decode_hex(hex: &str) -> Option<Vec<u8>> {
  if hex.len() % 2 != 0 {
    return None;
  }
  (0..hex.len()).step_by(2).map(|i| u8::from_str_radix(hex.get(i..i + 2)?, 16).ok()).collect()
}

/// Unix seconds now.
pub fn now() -> u64 {
  std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map_or(0, |d| d.as_secs())
}

/// The great-circle distance between two points, in kilometres (haversine).
pub fn distance_km(a: (f64, f64), b: (f64, f64)) -> f64 {
  const EARTH_RADIUS_KM: f64 = 6371.0;
  let (lat1, lon1) = (a.0.to_radians(), a.1.to_radians());
  let (lat2, lon2) = (b.0.to_radians(), b.1.to_radians());
  let h = ((lat2 - lat1) / 2.0).sin().powi(2) + lat1.cos() * lat2.cos() * ((lon2 - lon1) / 2.0).sin().powi(2);
  2.0 * EARTH_RADIUS_KM * h.sqrt().asin()
}

#[cfg(test)]
mod tests {
  use super::*;

  fn frankfurt() -> Cf {
    Cf { country: Some("DE".into()), city: Some("Frankfurt am Main".into()), ..Cf::default() }
  }

  #[test]
  fn a_signed_payload_is_accepted_once_and_only_with_the_key() {
    let (payload, signature) = sign(b"shared-key", &frankfurt(), 1_000);
    let mut headers = HeaderMap::new();
    headers.insert(GEO_HEADER, payload.clone());
    headers.insert(SIGNATURE_HEADER, signature.clone());
    assert!(accept_at(Some(b"shared-key"), &mut headers, 1_010));
    let cf: Cf = serde_json::from_str(headers[CF_HEADER].to_str().unwrap()).unwrap();
    assert_eq!(cf, frankfurt());
    assert!(headers.get(GEO_HEADER).is_none() && headers.get(SIGNATURE_HEADER).is_none());

    for (key, now) in [(&b"other-key"[..], 1_010), (&b"shared-key"[..], 1_000 + MAX_AGE_SECS + 1)] {
      let mut headers = HeaderMap::new();
      headers.insert(GEO_HEADER, payload.clone());
      headers.insert(SIGNATURE_HEADER, signature.clone());
      headers.insert(CF_HEADER, HeaderValue::from_static("{\"country\":\"XX\"}"));
      assert!(!accept_at(Some(key), &mut headers, now));
      assert!(headers.get(CF_HEADER).is_none(), "a client's own x-edge-cf never passes");
    }
  }

  #[test]
  fn a_tampered_payload_is_refused() {
    let (_, signature) = sign(b"shared-key", &frankfurt(), 1_000);
    let forged = Cf { country: Some("US".into()), ..frankfurt() };
    let (payload, _) = sign(b"shared-key", &forged, 1_000);
    let mut headers = HeaderMap::new();
    headers.insert(GEO_HEADER, payload);
    headers.insert(SIGNATURE_HEADER, signature);
    assert!(!accept_at(Some(b"shared-key"), &mut headers, 1_000));
  }

  #[test]
  fn distances_between_cities() {
    let frankfurt = (50.11, 8.68);
    let ashburn = (39.04, -77.49);
    let singapore = (1.35, 103.82);
    assert!((distance_km(frankfurt, ashburn) - 6_540.0).abs() < 100.0);
    assert!((distance_km(frankfurt, singapore) - 10_260.0).abs() < 100.0);
    assert_eq!(distance_km(singapore, singapore), 0.0);
  }
}
