//! A route pattern as a worker's `edge.toml` declares it (`example.com/api/*`); the routing
//! table (`catalog::routing`) matches requests against them.

/// A route pattern: `host/path`, where a trailing `*` makes the path a prefix.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Pattern {
  host: String,
  path: String,
  prefix: bool,
}

impl Pattern {
  /// Parses `example.com/api/*`; the message says what is wrong.
  pub fn parse(text: &str) -> Result<Pattern, String> {
    let (host, path) = match text.find('/') {
      Some(at) => (&text[..at], &text[at..]),
      None => return Err(format!("route {text:?} needs a path: write {text}/* for the whole host")),
    };
    let host = host.to_ascii_lowercase();
    let valid_host = !host.is_empty()
      && host.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'.' || b == b'-' || b == b':');
    if !valid_host {
      return Err(format!("route {text:?} has an invalid host {host:?}"));
    }
    let (path, prefix) = match path.strip_suffix('*') {
      Some(prefix) => (prefix.to_owned(), true),
      None => (path.to_owned(), false),
    };
    if path.contains('*') {
      return Err(format!("route {text:?}: `*` is allowed only at the end"));
    }
    Ok(Pattern { host, path, prefix })
  }

  pub fn matches(&self, host: &str, path: &str) -> bool {
    self.host == host && if self.prefix { path.starts_with(&self.path) } else { path == self.path }
  }

  /// How specific the pattern is: longer wins, and an exact path beats a prefix of equal length.
  pub fn specificity(&self) -> (usize, bool) {
    (self.host.len() + self.path.len(), !self.prefix)
  }
}

impl std::fmt::Display for Pattern {
  fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
    write!(f, "{}{}{}", self.host, self.path, if self.prefix { "*" } else { "" })
  }
}
