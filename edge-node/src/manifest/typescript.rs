//! TypeScript workers: a `.ts` or `.mts` module has its types stripped when the worker is read
//! (by `edge dev`, a deploy, or a node loading a stored version), before any isolate sees it.
//!
//! Stripping is `swc_ts_fast_strip`'s strip-only mode (what Node.js runs TypeScript with):
//! every type annotation is replaced by white space, so each line and column of the output is
//! the same as in the `.ts` file and a runtime error's `worker.ts:12:5` points at the source
//! without a source map. Syntax that would need code generated (`enum`, `namespace` with
//! values, parameter properties) is refused with its line, as Node.js refuses it.

use std::io::Write;
use std::sync::Arc;
use std::sync::Mutex;

use swc_common::errors::Handler;
use swc_common::errors::HANDLER;
use swc_common::sync::Lrc;
use swc_common::SourceMap;
use swc_common::GLOBALS;
use swc_ts_fast_strip::Mode;
use swc_ts_fast_strip::Options;

/// Whether the module at `path` is TypeScript.
pub fn is_typescript(path: &str) -> bool {
  path.ends_with(".ts") || path.ends_with(".mts")
}

/// The JavaScript of the TypeScript module `source`, named `path` in errors. The error is
/// the compiler's report: message, `path:line:column` and the line itself.
pub fn strip(path: &str, source: &str) -> Result<String, String> {
  let source_map: Lrc<SourceMap> = Default::default();
  let report = Report::default();
  let handler = Handler::with_emitter_writer(Box::new(report.clone()), Some(source_map.clone()));
  let options = Options {
    module: Some(true),
    filename: Some(path.to_owned()),
    mode: Mode::StripOnly,
    ..Default::default()
  };
  let stripped = GLOBALS.set(&Default::default(), || {
    HANDLER.set(&handler, || swc_ts_fast_strip::operate(&source_map, &handler, source.to_owned(), options))
  });
  match stripped {
    Ok(output) => Ok(output.code),
    Err(e) => {
      let report = report.text();
      Err(if report.trim().is_empty() { e.to_string() } else { report.trim_end().to_owned() })
    }
  }
}

/// Collects what the compiler reports.
#[derive(Clone, Default)]
struct Report(Arc<Mutex<Vec<u8>>>);

impl Report {
  fn text(&self) -> String {
    String::from_utf8_lossy(&self.0.lock().unwrap()).into_owned()
  }
}

impl Write for Report {
  fn write(&mut self, bytes: &[u8]) -> std::io::Result<usize> {
    self.0.lock().unwrap().extend_from_slice(bytes);
    Ok(bytes.len())
  }
  fn flush(&mut self) -> std::io::Result<()> {
    Ok(())
  }
}

#[cfg(test)]
mod tests {
  use super::*;

  #[test]
  fn types_become_white_space_and_lines_stay_where_they_were() {
    let source = "interface Env { GREETING: string }\nconst n: number = 1;\nexport default { fetch(r: Request, env: Env): Response { throw new Error(String(n)) } };\n";
    let js = strip("worker.ts", source).unwrap();
    assert_eq!(js.lines().count(), source.lines().count(), "{js}");
    let line = js.lines().nth(2).unwrap();
    assert_eq!(line.find("throw"), source.lines().nth(2).unwrap().find("throw"), "{js}");
    assert!(!js.contains("interface") && !js.contains(": number"), "{js}");
  }

  #[test]
  fn a_syntax_error_names_the_file_and_line() {
    let error = strip("src/worker.ts", "const a: number = 1;\nconst b = (;\n").unwrap_err();
    assert!(error.contains("src/worker.ts:2"), "{error}");
  }

  #[test]
  fn an_enum_is_refused_with_its_line() {
    let error = strip("worker.ts", "// one\nenum Color { Red }\n").unwrap_err();
    assert!(error.contains("worker.ts:2"), "{error}");
  }
}
