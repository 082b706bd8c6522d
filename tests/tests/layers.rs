//! The layers of each crate stay layers: a crate root (`lib.rs`) declares its top-level modules
//! in layer order, lowest first, and a module may use only the modules declared before it.
//! This reads the sources and fails, naming the file and line, when an import goes up a layer
//! (which is also how a cycle between top-level modules would come back). A cycle among the
//! files inside one folder is allowed.

use std::collections::BTreeMap;
use std::path::Path;
use std::path::PathBuf;

/// A reference from one top-level module to another.
#[derive(Debug)]
struct Use {
  from: String,
  to: String,
  file: PathBuf,
  line: usize,
}

/// The top-level modules `lib.rs` declares, in order.
fn declared(lib: &str) -> Vec<String> {
  code_lines(lib)
    .filter_map(|(_, line)| {
      let line = line.trim();
      let rest = line.strip_prefix("pub mod ").or_else(|| line.strip_prefix("mod "))?;
      Some(rest.strip_suffix(';')?.trim().to_owned())
    })
    .collect()
}

/// The source without comments, line by line (1-based): string contents are kept, `//` and
/// `/* */` comments (doc comments too, whose links are not imports) are blanked.
fn code_lines(source: &str) -> impl Iterator<Item = (usize, String)> + '_ {
  let mut in_block = false;
  source.lines().enumerate().map(move |(index, line)| {
    let mut code = String::with_capacity(line.len());
    let mut chars = line.chars().peekable();
    let mut in_string = false;
    while let Some(c) = chars.next() {
      if in_block {
        if c == '*' && chars.peek() == Some(&'/') {
          chars.next();
          in_block = false;
        }
        continue;
      }
      if in_string {
        code.push(c);
        if c == '\\' {
          if let Some(next) = chars.next() {
            code.push(next);
          }
        } else if c == '"' {
          in_string = false;
        }
        continue;
      }
      match (c, chars.peek()) {
        ('/', Some('/')) => break,
        ('/', Some('*')) => {
          chars.next();
          in_block = true;
        }
        ('"', _) => {
          in_string = true;
          code.push(c);
        }
        _ => code.push(c),
      }
    }
    (index + 1, code)
  })
}

/// The top-level modules `code` (one line) names through `crate::` (or, in a top-level
/// module's own file, `super::`), including those inside `crate::{...}` groups.
fn named(code: &str, top_level_file: bool) -> Vec<String> {
  let mut names = Vec::new();
  let mut prefixes = vec!["crate::"];
  if top_level_file {
    prefixes.push("super::");
  }
  for prefix in prefixes {
    let mut rest = code;
    while let Some(at) = rest.find(prefix) {
      let before = rest[..at].chars().last();
      rest = &rest[at + prefix.len()..];
      if before.is_some_and(|c| c.is_alphanumeric() || c == '_') {
        continue;
      }
      if let Some(group) = rest.strip_prefix('{') {
        let end = group.find('}').unwrap_or(group.len());
        for item in group[..end].split(',') {
          names.push(ident(item.trim()));
        }
      } else {
        names.push(ident(rest));
      }
    }
  }
  names.retain(|name| !name.is_empty());
  names
}

fn ident(text: &str) -> String {
  text.chars().take_while(|c| c.is_alphanumeric() || *c == '_').collect()
}

/// Every `.rs` file of top-level module `module` (its file, or its folder).
fn files_of(src: &Path, module: &str) -> Vec<PathBuf> {
  let file = src.join(format!("{module}.rs"));
  if file.is_file() {
    return vec![file];
  }
  let mut files = Vec::new();
  let mut folders = vec![src.join(module)];
  while let Some(folder) = folders.pop() {
    let entries = std::fs::read_dir(&folder).unwrap_or_else(|e| panic!("{}: {e}", folder.display()));
    for entry in entries {
      let path = entry.unwrap().path();
      if path.is_dir() {
        folders.push(path);
      } else if path.extension().is_some_and(|e| e == "rs") {
        files.push(path);
      }
    }
  }
  files.sort();
  files
}

/// Every reference between the top-level modules of the crate at `src`, and their order.
fn uses(src: &Path) -> (Vec<String>, Vec<Use>) {
  let lib = std::fs::read_to_string(src.join("lib.rs")).unwrap();
  let modules = declared(&lib);
  assert!(modules.len() > 1, "{}: no modules declared", src.display());
  let mut found = Vec::new();
  for module in &modules {
    let files = files_of(src, module);
    assert!(!files.is_empty(), "{}: module {module} has no files", src.display());
    for file in files {
      let top_level_file = file.parent() == Some(src) || file == src.join(module).join("mod.rs");
      let source = std::fs::read_to_string(&file).unwrap();
      for (line, code) in code_lines(&source) {
        for to in named(&code, top_level_file) {
          if &to != module && modules.contains(&to) {
            found.push(Use { from: module.clone(), to, file: file.clone(), line });
          }
        }
      }
    }
  }
  (modules, found)
}

/// The references that go up a layer (or sideways to a module declared later), as messages.
fn upward(src: &Path) -> Vec<String> {
  let (modules, found) = uses(src);
  let rank: BTreeMap<&str, usize> = modules.iter().enumerate().map(|(i, m)| (m.as_str(), i)).collect();
  found
    .iter()
    .filter(|u| rank[u.to.as_str()] > rank[u.from.as_str()])
    .map(|u| {
      format!(
        "{}:{}: `{}` (layer {}) uses `{}` (layer {}), a layer above it; pass a handle, a trait or a callback down instead",
        u.file.display(),
        u.line,
        u.from,
        rank[u.from.as_str()],
        u.to,
        rank[u.to.as_str()]
      )
    })
    .collect()
}

fn crate_src(name: &str) -> PathBuf {
  Path::new(env!("CARGO_MANIFEST_DIR")).join("..").join(name).join("src")
}

#[test]
fn edge_node_imports_only_go_down_its_layers() {
  let problems = upward(&crate_src("edge-node"));
  assert!(problems.is_empty(), "imports up a layer in edge-node:\n{}", problems.join("\n"));
}

#[test]
fn edge_runtime_imports_only_go_down_its_layers() {
  let problems = upward(&crate_src("runtime"));
  assert!(problems.is_empty(), "imports up a layer in edge-runtime:\n{}", problems.join("\n"));
}

#[test]
fn the_check_sees_every_form_of_import() {
  // The reader of the sources, on the forms imports take (so that the checks above can fail).
  assert_eq!(named("use crate::serve::Node;", false), ["serve"]);
  assert_eq!(named("use crate::{isolates, platform::kv};", false), ["isolates", "platform"]);
  assert_eq!(named("let x = crate::observe::redact::redact(a, b);", false), ["observe"]);
  assert_eq!(named("use super::Node;", true), ["Node"]);
  assert!(named("use super::Node;", false).is_empty());
  assert!(named("let s = \"not_crate::serve\";", false).is_empty());
  let lines: Vec<_> = code_lines("a // crate::serve\n/* crate::x */ b\nc \"// kept\" crate::d").collect();
  assert_eq!(lines[0].1.trim(), "a");
  assert_eq!(lines[1].1.trim(), "b");
  assert!(lines[2].1.contains("crate::d"));
  assert_eq!(declared("//! doc\npub mod proto;\n\nmod manifest;\npub use x::Y;"), ["proto", "manifest"]);
}

#[test]
fn an_upward_import_is_reported() {
  // A throwaway crate whose lower layer reaches up: the check names the file and the line.
  let dir = tempfile::tempdir().unwrap();
  let src = dir.path();
  std::fs::write(src.join("lib.rs"), "pub mod low;\n\npub mod high;\n").unwrap();
  std::fs::write(src.join("low.rs"), "//! low\n\nuse crate::high::Thing;\n").unwrap();
  std::fs::create_dir(src.join("high")).unwrap();
  std::fs::write(src.join("high").join("mod.rs"), "pub struct Thing;\nuse crate::low;\n").unwrap();
  let problems = upward(src);
  assert_eq!(problems.len(), 1, "{problems:?}");
  assert!(problems[0].contains("low.rs:3: `low` (layer 0) uses `high` (layer 1)"), "{}", problems[0]);
}
