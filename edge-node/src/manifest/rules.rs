//! wrangler's module rules: which files of a worker are text, bytes or WebAssembly when
//! imported, as `[[rules]]` in `edge.toml` or `rules` in a wrangler configuration, with
//! wrangler's defaults after them (`**/*.txt`, `**/*.html`, `**/*.sql` text, `**/*.bin`
//! data, `**/*.wasm` and `**/*.wasm?module` compiled WebAssembly).
//!
//! As in wrangler, the first rule whose glob matches a file decides, and a rule ends the
//! rules of its type that come after it (the defaults included) unless it says
//! `fallthrough = true`. Rules apply by extension: a glob is `**/*.<extension>` or
//! `*.<extension>`; any other glob is named in a warning and left out. What they decide
//! reaches the bundler (`manifest::bundle`: text inlined, data and WebAssembly copied beside
//! the bundle) and the runtime's module loader ([`edge_runtime::ModuleRules`]), so a
//! bundled and an unbundled worker import a file the same way.

use std::collections::BTreeMap;

use edge_runtime::ModuleKind;
use edge_runtime::ModuleRules;
use serde::Deserialize;
use serde::Serialize;

/// One `[[rules]]` entry.
#[derive(Clone, Debug, Deserialize, Serialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct ModuleRule {
  /// `Text`, `Data`, `CompiledWasm`, `ESModule` or `CommonJS`.
  #[serde(rename = "type")]
  pub kind: String,
  /// The files it covers: `**/*.<extension>`.
  pub globs: Vec<String>,
  /// Whether rules of the same type after this one still apply.
  #[serde(default, skip_serializing_if = "std::ops::Not::not")]
  pub fallthrough: bool,
}

/// What a rule makes of a file.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum RuleType {
  Text,
  Data,
  CompiledWasm,
  ESModule,
  CommonJS,
}

impl RuleType {
  fn parse(name: &str) -> Result<RuleType, String> {
    Ok(match name {
      "Text" => RuleType::Text,
      "Data" => RuleType::Data,
      "CompiledWasm" => RuleType::CompiledWasm,
      "ESModule" => RuleType::ESModule,
      "CommonJS" => RuleType::CommonJS,
      other => {
        return Err(format!(
        "rules: type {other:?} is not a module type here: use Text, Data, CompiledWasm, ESModule or CommonJS"
      ))
      }
    })
  }
}

/// The rules in effect: a type for each extension they name.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Rules {
  pub by_extension: BTreeMap<String, RuleType>,
}

/// wrangler's default rules, after a worker's own.
fn defaults() -> Vec<ModuleRule> {
  let rule = |kind: &str, globs: &[&str]| ModuleRule {
    kind: kind.to_owned(),
    globs: globs.iter().map(|g| g.to_string()).collect(),
    fallthrough: false,
  };
  vec![
    rule("Text", &["**/*.txt", "**/*.html", "**/*.sql"]),
    rule("Data", &["**/*.bin"]),
    rule("CompiledWasm", &["**/*.wasm", "**/*.wasm?module"]),
  ]
}

/// The extension a glob covers: `**/*.ext`, `*.ext` (and `?module` after `.wasm`).
fn extension(glob: &str) -> Option<String> {
  let name = glob.strip_prefix("**/").unwrap_or(glob);
  let extension = name.strip_prefix("*.")?;
  let extension = extension.strip_suffix("?module").unwrap_or(extension);
  let plain = !extension.is_empty()
    && extension.chars().all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_' || c == '.');
  plain.then(|| extension.to_ascii_lowercase())
}

impl Rules {
  /// `own` (the worker's rules) then the defaults; warnings for what is left out.
  pub fn resolve(own: &[ModuleRule]) -> Result<(Rules, Vec<String>), String> {
    let mut rules = Rules::default();
    let mut warnings = Vec::new();
    let mut ended: Vec<RuleType> = Vec::new();
    let defaults = defaults();
    for (rule, is_own) in own.iter().map(|r| (r, true)).chain(defaults.iter().map(|r| (r, false))) {
      let kind = RuleType::parse(&rule.kind)?;
      if ended.contains(&kind) {
        if is_own {
          warnings.push(format!(
            "rules: a {} rule after one without `fallthrough = true` has no effect: {}",
            rule.kind,
            rule.globs.join(", ")
          ));
        }
        continue;
      }
      if !rule.fallthrough {
        ended.push(kind);
      }
      for glob in &rule.globs {
        match extension(glob) {
          Some(extension) => {
            rules.by_extension.entry(extension).or_insert(kind);
          }
          None => warnings.push(format!(
            "rules: the glob {glob:?} is left out: rules apply by extension here (`**/*.<extension>`)"
          )),
        }
      }
    }
    Ok((rules, warnings))
  }

  /// Whether the bundle takes in files like `path` (inlined or copied beside it).
  pub fn bundled(&self, path: &str) -> bool {
    let name = path.rsplit('/').next().unwrap_or(path);
    name.rsplit_once('.').is_some_and(|(_, extension)| {
      matches!(
        self.by_extension.get(&extension.to_ascii_lowercase()),
        Some(RuleType::Text | RuleType::Data | RuleType::CompiledWasm)
      )
    })
  }

  /// What the runtime's loader makes of each extension (CommonJS is the bundler's alone).
  pub fn runtime(&self) -> ModuleRules {
    ModuleRules::with(self.by_extension.iter().filter_map(|(extension, kind)| {
      let kind = match kind {
        RuleType::Text => ModuleKind::Text,
        RuleType::Data => ModuleKind::Data,
        RuleType::CompiledWasm => ModuleKind::CompiledWasm,
        RuleType::ESModule => ModuleKind::JavaScript,
        RuleType::CommonJS => return None,
      };
      Some((extension.clone(), kind))
    }))
  }

  /// esbuild's `--loader` options for them: text inlined as a string, data and WebAssembly
  /// copied beside the bundle (the runtime gives an `ArrayBuffer` and a `WebAssembly.Module`
  /// for them, as workerd does), JavaScript under other extensions as JavaScript.
  pub fn esbuild_loaders(&self) -> Vec<String> {
    const NATIVE: &[&str] = &["js", "mjs", "cjs", "jsx", "ts", "mts", "cts", "tsx", "json"];
    self
      .by_extension
      .iter()
      .filter_map(|(extension, kind)| {
        let loader = match kind {
          RuleType::Text => "text",
          RuleType::Data | RuleType::CompiledWasm => "copy",
          RuleType::ESModule | RuleType::CommonJS if NATIVE.contains(&extension.as_str()) => return None,
          RuleType::ESModule | RuleType::CommonJS => "js",
        };
        Some(format!("--loader:.{extension}={loader}"))
      })
      .collect()
  }
}

#[cfg(test)]
mod tests {
  use super::*;

  fn rule(kind: &str, globs: &[&str], fallthrough: bool) -> ModuleRule {
    ModuleRule { kind: kind.into(), globs: globs.iter().map(|g| g.to_string()).collect(), fallthrough }
  }

  #[test]
  fn defaults_apply_without_rules() {
    let (rules, warnings) = Rules::resolve(&[]).unwrap();
    assert!(warnings.is_empty());
    assert_eq!(rules.by_extension.get("sql"), Some(&RuleType::Text));
    assert_eq!(rules.by_extension.get("wasm"), Some(&RuleType::CompiledWasm));
    assert_eq!(rules.by_extension.get("bin"), Some(&RuleType::Data));
    assert!(rules.bundled("src/x.WASM") && !rules.bundled("README.md"));
    assert_eq!(
      rules.esbuild_loaders(),
      [
        "--loader:.bin=copy",
        "--loader:.html=text",
        "--loader:.sql=text",
        "--loader:.txt=text",
        "--loader:.wasm=copy"
      ]
    );
  }

  #[test]
  fn a_rule_ends_the_defaults_of_its_type_unless_it_falls_through() {
    let (rules, _) = Rules::resolve(&[rule("Text", &["**/*.md"], false)]).unwrap();
    assert_eq!(rules.by_extension.get("md"), Some(&RuleType::Text));
    assert_eq!(rules.by_extension.get("txt"), None, "the default Text rule is ended");
    let (rules, _) = Rules::resolve(&[rule("Text", &["**/*.md"], true)]).unwrap();
    assert_eq!(rules.by_extension.get("txt"), Some(&RuleType::Text));
    let (rules, _) = Rules::resolve(&[rule("Data", &["**/*.txt"], true)]).unwrap();
    assert_eq!(rules.by_extension.get("txt"), Some(&RuleType::Data), "the first match wins");
    assert_eq!(rules.runtime().kind("a.txt"), Some(ModuleKind::Data));
  }

  #[test]
  fn what_cannot_apply_is_said() {
    let (_, warnings) =
      Rules::resolve(&[rule("Text", &["src/templates/**"], false), rule("Text", &["**/*.tpl"], false)])
        .unwrap();
    assert_eq!(warnings.len(), 2, "{warnings:?}");
    assert!(warnings[0].contains("src/templates/**"), "{warnings:?}");
    assert!(warnings[1].contains("fallthrough"), "{warnings:?}");
    let err = Rules::resolve(&[rule("PythonModule", &["**/*.py"], false)]).unwrap_err();
    assert!(err.contains("PythonModule"), "{err}");
  }
}
