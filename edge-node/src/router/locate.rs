//! Where a client is: a trusted upstream's geo headers, else the GeoIP database by the
//! client's IP, else the configured default.

use std::net::IpAddr;

use http::HeaderMap;

use super::config::GeoHeaders;
use super::config::Location;
use super::config::RouterConfig;
use crate::proto::geo::Cf;

/// Places clients.
pub struct Locator {
  database: Option<maxminddb::Reader<Vec<u8>>>,
  trusted: Vec<ipnet::IpNet>,
  headers: GeoHeaders,
  default: Option<Location>,
}

/// A client, placed.
#[derive(Debug, Default)]
pub struct Placed {
  /// What the worker will see (without `colo`, which is the serving node's).
  pub cf: Cf,
  /// Latitude and longitude, when known.
  pub point: Option<(f64, f64)>,
  /// The client's address: the peer's, or from a trusted upstream's `x-forwarded-for`.
  pub client_ip: Option<IpAddr>,
  /// Whether the connection came from a trusted upstream.
  pub trusted: bool,
}

impl Locator {
  /// Opens the GeoIP database, if one is configured.
  pub fn new(config: &RouterConfig) -> anyhow::Result<Locator> {
    let database = match &config.geoip {
      Some(path) => Some(
        maxminddb::Reader::open_readfile(path)
          .map_err(|e| anyhow::anyhow!("cannot read the GeoIP database {}: {e}", path.display()))?,
      ),
      None => None,
    };
    Ok(Locator {
      database,
      trusted: config.trusted_proxies.clone(),
      headers: config.geo_headers.clone(),
      default: config.default_location.clone(),
    })
  }

  fn is_trusted(&self, ip: IpAddr) -> bool {
    self.trusted.iter().any(|net| net.contains(&ip))
  }

  /// Places the client of a request that came from `peer`.
  pub fn locate(&self, peer: IpAddr, headers: &HeaderMap) -> Placed {
    let trusted = self.is_trusted(peer);
    let client_ip = if trusted { self.forwarded_client(headers).unwrap_or(peer) } else { peer };
    let mut placed = Placed { client_ip: Some(client_ip), trusted, ..Placed::default() };
    if trusted && self.place_by_headers(headers, &mut placed) {
      return placed;
    }
    if self.place_by_database(client_ip, &mut placed) {
      return placed;
    }
    if let Some(default) = &self.default {
      placed.point = Some((default.latitude, default.longitude));
      placed.cf.latitude = Some(default.latitude.to_string());
      placed.cf.longitude = Some(default.longitude.to_string());
      placed.cf.country = default.country.clone();
      placed.cf.city = default.city.clone();
    }
    placed
  }

  /// The client in `x-forwarded-for`: the last address not of a trusted upstream.
  fn forwarded_client(&self, headers: &HeaderMap) -> Option<IpAddr> {
    let list: Vec<IpAddr> = headers
      .get_all("x-forwarded-for")
      .iter()
      .filter_map(|v| v.to_str().ok())
      .flat_map(|v| v.split(','))
      .filter_map(|part| part.trim().parse().ok())
      .collect();
    list.iter().rev().find(|ip| !self.is_trusted(**ip)).or(list.first()).copied()
  }

  fn place_by_headers(&self, headers: &HeaderMap, placed: &mut Placed) -> bool {
    let text =
      |name: &str| headers.get(name).and_then(|v| v.to_str().ok()).map(str::trim).filter(|v| !v.is_empty());
    let latitude =
      text(&self.headers.latitude).and_then(|v| v.parse::<f64>().ok()).filter(|v| (-90.0..=90.0).contains(v));
    let longitude = text(&self.headers.longitude)
      .and_then(|v| v.parse::<f64>().ok())
      .filter(|v| (-180.0..=180.0).contains(v));
    let country = text(&self.headers.country).map(str::to_owned);
    if latitude.is_none() && country.is_none() {
      return false;
    }
    placed.cf.country = country;
    placed.cf.city = text(&self.headers.city).map(str::to_owned);
    placed.cf.region_code = text(&self.headers.region).map(str::to_owned);
    placed.cf.timezone = text(&self.headers.timezone).map(str::to_owned);
    if let (Some(latitude), Some(longitude)) = (latitude, longitude) {
      placed.point = Some((latitude, longitude));
      placed.cf.latitude = Some(latitude.to_string());
      placed.cf.longitude = Some(longitude.to_string());
    }
    true
  }

  fn place_by_database(&self, ip: IpAddr, placed: &mut Placed) -> bool {
    let Some(database) = &self.database else { return false };
    let city: maxminddb::geoip2::City = match database.lookup(ip) {
      Ok(Some(city)) => city,
      Ok(None) => return false,
      Err(e) => {
        tracing::debug!(%ip, "GeoIP lookup failed: {e}");
        return false;
      }
    };
    let location = city.location.as_ref();
    let (latitude, longitude) = (location.and_then(|l| l.latitude), location.and_then(|l| l.longitude));
    placed.cf.country = city.country.as_ref().and_then(|c| c.iso_code).map(str::to_owned);
    placed.cf.city = city.city.as_ref().and_then(|c| c.names.as_ref()?.get("en").map(|n| n.to_string()));
    let subdivision = city.subdivisions.as_ref().and_then(|s| s.first());
    placed.cf.region_code = subdivision.and_then(|s| s.iso_code).map(str::to_owned);
    placed.cf.region = subdivision.and_then(|s| s.names.as_ref()?.get("en").map(|n| n.to_string()));
    placed.cf.timezone = location.and_then(|l| l.time_zone).map(str::to_owned);
    if let (Some(latitude), Some(longitude)) = (latitude, longitude) {
      placed.point = Some((latitude, longitude));
      placed.cf.latitude = Some(latitude.to_string());
      placed.cf.longitude = Some(longitude.to_string());
    }
    placed.point.is_some() || placed.cf.country.is_some()
  }
}
