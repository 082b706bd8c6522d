//! What a worker may reach outside its isolate.
//!
//! deno_fetch asks a [`PermissionsContainer`] in the isolate's `OpState` before every
//! outbound request, and again with every address a host name resolves to before it
//! connects (so DNS cannot smuggle a private address past the check). A worker may `fetch`
//! public hosts; loopback, private, link-local and metadata addresses are denied unless its
//! config allows them; files, the environment and everything else the container guards are
//! denied outright.

use std::net::IpAddr;
use std::sync::Arc;

use deno_permissions::PermissionDescriptorParser as _;
use deno_permissions::Permissions;
use deno_permissions::PermissionsContainer;
use deno_permissions::PermissionsOptions;
use deno_permissions::RuntimePermissionDescriptorParser;
use ipnet::IpNet;
use serde::Deserialize;
use serde::Serialize;

/// Networks no worker reaches unless allowed: loopback, "this network", RFC 1918, carrier-grade
/// NAT, link-local (cloud metadata lives at 169.254.169.254), and the IPv6 loopback and
/// unspecified addresses. Enforced by deno_fetch's permission check, which also runs on every
/// address a host name resolves to.
pub const PRIVATE_NETWORKS: &[&str] = &[
  "0.0.0.0/8",
  "10.0.0.0/8",
  "100.64.0.0/10",
  "127.0.0.0/8",
  "169.254.0.0/16",
  "172.16.0.0/12",
  "192.168.0.0/16",
  "::/128",
  "::1/128",
];

/// IPv6 networks that are never reachable: unique-local, link-local, and IPv4-mapped (which
/// would reach the IPv4 networks above). Deno's permission lists cannot express IPv6
/// networks, so these are enforced by [`refuse_private_ipv6`] and [`PublicResolver`] instead.
pub const PRIVATE_IPV6_NETWORKS: &[&str] = &["fc00::/7", "fe80::/10", "::ffff:0:0/96"];

/// Whether `ip` is in one of [`PRIVATE_IPV6_NETWORKS`].
pub(crate) fn is_private_ipv6(ip: IpAddr) -> bool {
  PRIVATE_IPV6_NETWORKS.iter().any(|n| n.parse::<IpNet>().expect("valid network").contains(&ip))
}

/// deno_fetch's request hook: refuses URLs whose host is a private IPv6 literal.
pub fn refuse_private_ipv6(
  request: &mut http::Request<deno_fetch::ReqBody>,
) -> Result<(), deno_error::JsErrorBox> {
  let host = request.uri().host().unwrap_or("");
  let literal = host.strip_prefix('[').and_then(|h| h.strip_suffix(']')).unwrap_or(host);
  match literal.parse::<IpAddr>() {
    Ok(ip) if is_private_ipv6(ip) => {
      Err(deno_error::JsErrorBox::type_error(format!("fetch refused: {ip} is a private address")))
    }
    _ => Ok(()),
  }
}

/// deno_fetch's options for a worker: private IPv6 refused, by URL and by DNS answer, and
/// TLS trusting the roots every outbound connection trusts (`roots`).
pub fn fetch_options() -> deno_fetch::Options {
  deno_fetch::Options {
    resolver: deno_fetch::dns::Resolver::custom(Arc::new(PublicResolver)),
    request_builder_hook: Some(refuse_private_ipv6),
    root_cert_store_provider: Some(Arc::new(crate::roots::FetchRoots)),
    ..Default::default()
  }
}

/// A DNS resolver (the system's, through getaddrinfo) that drops private IPv6 answers, so a
/// host name cannot lead to them either.
#[derive(Debug)]
pub struct PublicResolver;

impl deno_fetch::dns::Resolve for PublicResolver {
  fn resolve(&self, name: hyper_util::client::legacy::connect::dns::Name) -> deno_fetch::dns::Resolving {
    Box::pin(async move {
      let host = name.as_str().to_owned();
      let addresses = tokio::net::lookup_host((host.as_str(), 0)).await?;
      let public: Vec<std::net::SocketAddr> = addresses.filter(|a| !is_private_ipv6(a.ip())).collect();
      if public.is_empty() {
        return Err(std::io::Error::other(format!("fetch refused: {host} has no public address")));
      }
      Ok(public.into_iter())
    })
  }
}

/// A worker's outbound network policy.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Outbound {
  /// The hosts the worker may `fetch`: `api.example.com`, `api.example.com:8443` (that port
  /// only), `*.example.com` (the domain and its subdomains), or `*` (any public host). `None`
  /// is any public host; an empty list is none. The `allow` entries are reachable too.
  pub hosts: Option<Vec<String>>,
  /// Private addresses the worker may reach after all: IP addresses, CIDR networks, or
  /// `localhost` (127.0.0.1 and ::1). Any port of an allowed address is allowed.
  pub allow: Vec<String>,
  /// Further `host:port` or address entries the worker may never reach, whatever `allow`
  /// says (the node adds its own admin listener here).
  pub deny: Vec<String>,
}

impl Outbound {
  /// The permission container of a worker with this policy.
  pub fn permissions(&self) -> Result<PermissionsContainer, String> {
    let allowed = self.allowed_networks()?;
    let mut deny = Vec::new();
    for network in PRIVATE_NETWORKS {
      let network: IpNet = network.parse().expect("PRIVATE_NETWORKS are valid");
      for part in subtract(network, &allowed) {
        // Deno reads an IPv6 entry only as a single address, in brackets.
        deny.push(match part {
          IpNet::V4(v4) => v4.to_string(),
          IpNet::V6(v6) => format!("[{}]", v6.addr()),
        });
      }
    }
    deny.extend(self.deny.iter().cloned());
    let parser = Arc::new(RuntimePermissionDescriptorParser::new(sys_traits::impls::RealSys));
    let allow_net = match &self.hosts {
      // An empty list grants every host (Deno's `--allow-net`); the deny list wins over it.
      None => Some(vec![]),
      Some(hosts) if hosts.iter().any(|h| h == "*") => Some(vec![]),
      Some(hosts) => {
        let mut listed = Vec::new();
        for host in hosts {
          if host.contains("://") || host.contains('/') {
            return Err(format!(
              "hosts: {host:?} is not a host: write the host name alone, such as api.example.com"
            ));
          }
          parser.parse_net_descriptor(host).map_err(|e| format!("hosts: {host:?}: {e}"))?;
          listed.push(host.to_ascii_lowercase());
        }
        for network in &allowed {
          listed.push(match network {
            IpNet::V4(v4) if v4.prefix_len() == 32 => v4.addr().to_string(),
            IpNet::V6(v6) if v6.prefix_len() == 128 => format!("[{}]", v6.addr()),
            network => network.to_string(),
          });
        }
        if self.allow.iter().any(|a| a == "localhost") {
          listed.push("localhost".into());
        }
        // No list at all is no host (an empty one would be every host).
        (!listed.is_empty()).then_some(listed)
      }
    };
    let options = PermissionsOptions { allow_net, deny_net: Some(deny), prompt: false, ..Default::default() };
    let permissions = Permissions::from_options(parser.as_ref(), &options).map_err(|e| e.to_string())?;
    Ok(PermissionsContainer::new(parser, permissions))
  }

  fn allowed_networks(&self) -> Result<Vec<IpNet>, String> {
    let mut networks = Vec::new();
    for entry in &self.allow {
      match entry.as_str() {
        "localhost" => {
          networks.push("127.0.0.1/32".parse().unwrap());
          networks.push("::1/128".parse().unwrap());
        }
        text => match (text.parse::<IpNet>(), text.parse::<IpAddr>()) {
          (Ok(net), _) => networks.push(net.trunc()),
          (_, Ok(ip)) => networks.push(IpNet::from(ip)),
          _ => return Err(format!("allow: {entry:?} is not an IP address, a CIDR network or \"localhost\"")),
        },
      }
    }
    Ok(networks)
  }
}

/// `network` without the parts covered by `holes`, as a list of networks.
fn subtract(network: IpNet, holes: &[IpNet]) -> Vec<IpNet> {
  if holes.iter().any(|hole| hole.contains(&network)) {
    return vec![];
  }
  if !holes.iter().any(|hole| network.contains(hole)) {
    return vec![network];
  }
  // A hole lies strictly inside: split in halves and keep what stays outside it.
  let halves =
    network.subnets(network.prefix_len() + 1).expect("a network containing a smaller one can split");
  halves.flat_map(|half| subtract(half, holes)).collect()
}

#[cfg(test)]
mod tests {
  use super::*;

  fn nets(list: &[&str]) -> Vec<IpNet> {
    list.iter().map(|n| n.parse().unwrap()).collect()
  }

  #[test]
  fn subtracting_an_address_leaves_everything_else_of_the_network() {
    let parts = subtract("127.0.0.0/8".parse().unwrap(), &nets(&["127.0.0.1/32"]));
    assert_eq!(parts.len(), 24);
    let ip = |s: &str| s.parse::<IpAddr>().unwrap();
    assert!(!parts.iter().any(|p| p.contains(&ip("127.0.0.1"))));
    for other in ["127.0.0.0", "127.0.0.2", "127.1.2.3", "127.255.255.255"] {
      assert!(parts.iter().any(|p| p.contains(&ip(other))), "{other} stays denied");
    }
  }

  #[test]
  fn unrelated_and_covering_allowances() {
    assert_eq!(subtract("10.0.0.0/8".parse().unwrap(), &nets(&["192.168.1.1/32"])), nets(&["10.0.0.0/8"]));
    assert!(subtract("10.0.0.0/8".parse().unwrap(), &nets(&["10.0.0.0/7"])).is_empty());
  }

  #[test]
  fn allow_entries_are_validated() {
    let bad = Outbound { allow: vec!["example.com".into()], ..Outbound::default() };
    assert!(bad.permissions().unwrap_err().contains("example.com"));
    let good = Outbound {
      allow: vec!["localhost".into(), "10.1.0.0/16".into(), "192.168.0.7".into()],
      ..Outbound::default()
    };
    assert!(good.permissions().is_ok());
  }

  #[test]
  fn only_declared_hosts_are_reachable() {
    let check = |outbound: &Outbound, host: &str, port: Option<u16>| {
      outbound.permissions().unwrap().check_net(&(host, port), "fetch()").is_ok()
    };
    let declared = Outbound {
      hosts: Some(vec!["api.example.com".into(), "*.cdn.example.net".into(), "pay.example.org:8443".into()]),
      allow: vec!["10.0.0.7".into()],
      deny: vec![],
    };
    assert!(check(&declared, "api.example.com", Some(443)));
    assert!(check(&declared, "img.cdn.example.net", Some(443)));
    assert!(check(&declared, "pay.example.org", Some(8443)));
    assert!(!check(&declared, "pay.example.org", Some(443)), "another port");
    assert!(!check(&declared, "evil.example.com", Some(443)));
    assert!(check(&declared, "10.0.0.7", Some(80)), "an allowed private address is declared");
    let nothing = Outbound { hosts: Some(vec![]), ..Outbound::default() };
    assert!(!check(&nothing, "api.example.com", Some(443)));
    let anything = Outbound { hosts: Some(vec!["*".into()]), ..Outbound::default() };
    assert!(check(&anything, "api.example.com", Some(443)));
    assert!(check(&Outbound::default(), "api.example.com", Some(443)));
    let url = Outbound { hosts: Some(vec!["https://api.example.com".into()]), ..Outbound::default() };
    assert!(url.permissions().unwrap_err().contains("is not a host"));
  }
}
