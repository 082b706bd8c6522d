//! Which worker a request is for, from its `Host` header and path.
//!
//! A node answers `<worker>.<domain>` (for example `hello.edge.localhost`) for every worker,
//! and the route patterns a worker declares in its `edge.toml` (`example.com/*`,
//! `example.com/api/*`): a pattern is a host and a path, ending in `*` for a prefix; the most
//! specific (longest) matching pattern wins. `edge dev` with a single worker routes
//! everything to it.

use std::sync::Arc;

use crate::catalog::Deployment;

pub use crate::manifest::pattern::Pattern;

/// The routing table of a server: the active deployment of every worker it serves.
pub struct Router {
  slots: Vec<Arc<Deployment>>,
  /// Patterns with the index of their worker in `slots`.
  patterns: Vec<(Pattern, usize)>,
  /// `<worker>.<domain>` reaches a worker; `None` routes by the host's first label.
  domain: Option<String>,
}

impl Router {
  /// `domain`: the node's domain; `None` for `edge dev`, which routes by the first label of
  /// the host (and everything to its only worker when it has one).
  pub fn new(slots: Vec<Arc<Deployment>>, domain: Option<String>) -> Router {
    let mut patterns = Vec::new();
    for (index, slot) in slots.iter().enumerate() {
      for pattern in &slot.worker.routes {
        patterns.push((pattern.clone(), index));
      }
    }
    patterns.sort_by_key(|(pattern, _)| std::cmp::Reverse(pattern.specificity()));
    let domain = domain.map(|d| d.trim_matches('.').to_ascii_lowercase());
    Router { slots, patterns, domain }
  }

  /// The deployments, in the order they were given.
  pub fn deployments(&self) -> &[Arc<Deployment>] {
    &self.slots
  }

  /// The node's domain, as given to [`Router::new`].
  pub fn domain(&self) -> Option<String> {
    self.domain.clone()
  }

  /// The active deployment of the worker `name`.
  pub fn get(&self, name: &str) -> Option<&Arc<Deployment>> {
    self.slots.iter().find(|d| d.name() == name)
  }

  /// The worker for a request to `host` (with or without a port) and `path`.
  pub fn route(&self, host: &str, path: &str) -> Option<&Arc<Deployment>> {
    let host = host.to_ascii_lowercase();
    let bare = strip_port(&host);
    let path = path.split('?').next().unwrap_or("/");
    if let Some((_, index)) =
      self.patterns.iter().find(|(p, _)| p.matches(bare, path) || p.matches(&host, path))
    {
      return Some(&self.slots[*index]);
    }
    match &self.domain {
      Some(domain) => {
        let label = bare.strip_suffix(domain.as_str())?.strip_suffix('.')?;
        self.slots.iter().find(|slot| slot.name() == label)
      }
      None => {
        if let [only] = self.slots.as_slice() {
          return Some(only);
        }
        let label = bare.split('.').next().unwrap_or("");
        self.slots.iter().find(|slot| slot.name() == label)
      }
    }
  }
}

fn strip_port(host: &str) -> &str {
  if host.starts_with('[') {
    return match host.find(']') {
      Some(end) => &host[..=end],
      None => host,
    };
  }
  match host.rsplit_once(':') {
    Some((name, port)) if port.bytes().all(|b| b.is_ascii_digit()) => name,
    _ => host,
  }
}

#[cfg(test)]
mod tests {
  use super::*;

  #[test]
  fn patterns_parse_and_match() {
    let api = Pattern::parse("Example.com/api/*").unwrap();
    assert!(api.matches("example.com", "/api/users"));
    assert!(!api.matches("example.com", "/apix"));
    let exact = Pattern::parse("example.com/health").unwrap();
    assert!(exact.matches("example.com", "/health"));
    assert!(!exact.matches("example.com", "/health/x"));
    assert!(api.specificity() > Pattern::parse("example.com/*").unwrap().specificity());
  }

  #[test]
  fn bad_patterns_say_why() {
    assert!(Pattern::parse("example.com").unwrap_err().contains("needs a path"));
    assert!(Pattern::parse("exa mple.com/*").unwrap_err().contains("invalid host"));
    assert!(Pattern::parse("example.com/*/x").unwrap_err().contains("only at the end"));
  }

  #[test]
  fn ports_are_ignored_for_matching() {
    assert_eq!(strip_port("hello.edge.localhost:8080"), "hello.edge.localhost");
    assert_eq!(strip_port("[::1]:80"), "[::1]");
    assert_eq!(strip_port("example.com"), "example.com");
  }
}
