//! Stack traces of a bundled worker in terms of its sources: each `worker:///<bundle>:L:C` in
//! a trace or message becomes `worker:///<source>:L:C` through the bundle's source map, so that
//! the log, `edge tail` and a 500's details name the file and line the author wrote.

use std::borrow::Cow;
use std::fmt;

/// A bundle's source map.
pub struct SourceMapping {
  /// How a position in the bundle starts in a trace: `worker:///src/index.js:`.
  needle: String,
  map: sourcemap::SourceMap,
}

impl fmt::Debug for SourceMapping {
  fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
    f.debug_struct("SourceMapping").field("needle", &self.needle).finish()
  }
}

impl SourceMapping {
  /// The map `json` of the bundle at `bundle`.
  pub fn parse(bundle: &str, json: &[u8]) -> Result<SourceMapping, String> {
    let map = sourcemap::SourceMap::from_slice(json).map_err(|e| format!("{bundle}.map: {e}"))?;
    Ok(SourceMapping { needle: format!("worker:///{bundle}:"), map })
  }

  /// `text` with every position in the bundle replaced by the position in its source (`text`
  /// itself, without a copy, when it names none: most console lines).
  pub fn remap<'a>(&self, text: &'a str) -> Cow<'a, str> {
    let needle = self.needle.as_str();
    if !text.contains(needle) {
      return Cow::Borrowed(text);
    }
    let mut out = String::with_capacity(text.len());
    let mut rest = text;
    while let Some(at) = rest.find(needle) {
      out.push_str(&rest[..at]);
      let after = &rest[at + needle.len()..];
      match self.position(after) {
        Some((consumed, mapped)) => {
          out.push_str(&mapped);
          rest = &after[consumed..];
        }
        None => {
          out.push_str(needle);
          rest = after;
        }
      }
    }
    out.push_str(rest);
    Cow::Owned(out)
  }

  /// From `L:C...` (1-based line and column, as traces give them): how many bytes that took,
  /// and the source position it maps to.
  fn position(&self, text: &str) -> Option<(usize, String)> {
    let line_len = text.bytes().take_while(u8::is_ascii_digit).count();
    let line: u32 = text[..line_len].parse().ok()?;
    let rest = text[line_len..].strip_prefix(':')?;
    let column_len = rest.bytes().take_while(u8::is_ascii_digit).count();
    let column: u32 = rest[..column_len].parse().ok()?;
    let token = self.map.lookup_token(line.checked_sub(1)?, column.saturating_sub(1))?;
    let source = token.get_source()?;
    let mapped = format!("worker:///{source}:{}:{}", token.get_src_line() + 1, token.get_src_col() + 1);
    Some((line_len + 1 + column_len, mapped))
  }
}

#[cfg(test)]
mod tests {
  use super::*;

  #[test]
  fn positions_in_the_bundle_become_positions_in_the_source() {
    // "src/index.ts" line 3 column 9 is the bundle's line 1 column 5 ("AAAA" = 0,0,0,0; then
    // ";IAEQ"-style segments are hard to write by hand, so build one with the crate).
    let mut builder = sourcemap::SourceMapBuilder::new(Some("index.js"));
    let source = builder.add_source("src/index.ts");
    builder.add_raw(0, 4, 2, 8, Some(source), None, false);
    let mut json = Vec::new();
    builder.into_sourcemap().to_writer(&mut json).unwrap();
    let mapping = SourceMapping::parse("src/index.js", &json).unwrap();
    let trace = "Error: boom\n    at fetch (worker:///src/index.js:1:5)\n    at other (worker:///lib.js:2:2)";
    assert_eq!(
      mapping.remap(trace),
      "Error: boom\n    at fetch (worker:///src/index.ts:3:9)\n    at other (worker:///lib.js:2:2)"
    );
    assert_eq!(mapping.remap("worker:///src/index.js:x"), "worker:///src/index.js:x");
  }
}
