//! Builds the startup snapshot: deno_core plus the Web API extensions with `bootstrap.js`
//! already evaluated, embedded in the binary so that no isolate ever reads JS from disk.
//!
//! Besides the snapshot it writes `residual_sources.rs`: the source of every lazily loaded
//! extension script that the bootstrap did *not* evaluate (and so is not in the snapshot),
//! embedded as text, because deno_core records those files only by their registry path.
//!
//! It also bundles the `node:*` modules of Node compatibility into `node_sources.rs`
//! (`build/node.rs`), whatever the features.
//!
//! With the `snapshot` feature off (the V8 type-check on machines without the V8 library)
//! this script does nothing and the runtime boots its extensions at every start instead.

#[cfg(feature = "snapshot")]
#[path = "src/values.rs"]
#[allow(dead_code)]
mod values;

#[cfg(feature = "snapshot")]
#[path = "src/ops/mod.rs"]
#[allow(dead_code)]
mod ops;

#[cfg(feature = "snapshot")]
#[path = "src/node_ops/mod.rs"]
#[allow(dead_code)]
mod node_ops;

#[cfg(feature = "snapshot")]
#[path = "src/extension.rs"]
#[allow(dead_code)]
mod extension;

#[cfg(feature = "snapshot")]
#[path = "build/compact.rs"]
mod compact;

#[path = "build/node.rs"]
mod node;

fn main() {
  println!("cargo:rerun-if-changed=build.rs");
  println!("cargo:rerun-if-changed=src/values.rs");
  println!("cargo:rerun-if-changed=src/ops");
  println!("cargo:rerun-if-changed=src/node_ops");
  println!("cargo:rerun-if-changed=src/extension.rs");
  println!("cargo:rerun-if-changed=js");
  println!("cargo:rerun-if-changed=build");
  // js/wasm_worker.js is embedded by bundle.rs with include_str!, which cargo tracks itself.
  #[cfg(feature = "snapshot")]
  snapshot::build();
  let out_dir = std::path::PathBuf::from(std::env::var_os("OUT_DIR").expect("cargo sets OUT_DIR"));
  node::build(std::path::Path::new(env!("CARGO_MANIFEST_DIR")), &out_dir);
}

#[cfg(feature = "snapshot")]
mod snapshot {
  use std::collections::HashSet;
  use std::fmt::Write as _;
  use std::path::PathBuf;

  use deno_core::snapshot::{create_snapshot, CreateSnapshotOptions};
  use deno_core::ExtensionFileSourceCode;

  pub fn build() {
    let out_dir = PathBuf::from(std::env::var_os("OUT_DIR").expect("cargo sets OUT_DIR"));
    let lazy_files: Vec<(String, LazySource)> = crate::extension::extensions(Default::default())
      .iter()
      .flat_map(|ext| ext.lazy_loaded_js_files.iter())
      .map(|file| (file.specifier.to_string(), LazySource::of(&file.code)))
      .collect();

    let output = create_snapshot(
      CreateSnapshotOptions {
        cargo_manifest_dir: env!("CARGO_MANIFEST_DIR"),
        startup_snapshot: None,
        skip_op_registration: false,
        extensions: crate::extension::extensions(Default::default()),
        extension_transpiler: Some(std::rc::Rc::new(crate::compact::transpile)),
        with_runtime_cb: None,
      },
      None,
    )
    .unwrap_or_else(|e| {
      // A failing bootstrap.js is the usual cause; its message and line are in `e`.
      println!("cargo:warning=building the startup snapshot failed: {e}");
      panic!("building the startup snapshot failed: {e}");
    });
    std::fs::write(out_dir.join("SNAPSHOT.bin"), &output.output).expect("write snapshot");
    for path in &output.files_loaded_during_snapshot {
      println!("cargo:rerun-if-changed={}", path.display());
    }

    let consumed: HashSet<&str> = output.consumed_lazy_specifiers.iter().map(String::as_str).collect();
    // deno_core finds an entry by binary search (it checks the order only in debug builds):
    // the table must be sorted by specifier, not left in the extensions' order.
    let mut lazy_files = lazy_files;
    lazy_files.sort_by(|a, b| a.0.cmp(&b.0));
    let mut table = String::from("&[\n");
    for (specifier, source) in &lazy_files {
      if consumed.contains(specifier.as_str()) {
        continue;
      }
      let text = match source {
        LazySource::Path(path) => {
          println!("cargo:rerun-if-changed={path}");
          std::fs::read_to_string(path).unwrap_or_else(|e| panic!("read {path}: {e}"))
        }
        LazySource::Text(text) => text.clone(),
      };
      writeln!(table, "  ({specifier:?}, {text:?}),").unwrap();
    }
    table.push(']');
    std::fs::write(out_dir.join("residual_sources.rs"), table).expect("write residual table");
  }

  enum LazySource {
    Path(String),
    Text(String),
  }

  impl LazySource {
    #[allow(deprecated)]
    fn of(code: &ExtensionFileSourceCode) -> Self {
      match code {
        ExtensionFileSourceCode::LoadedFromFsDuringSnapshot(path) => Self::Path(path.to_string()),
        ExtensionFileSourceCode::LoadedFromMemoryDuringSnapshot(text)
        | ExtensionFileSourceCode::IncludedInBinary(text) => Self::Text(text.to_string()),
        ExtensionFileSourceCode::Computed(text) => Self::Text(text.to_string()),
      }
    }
  }
}
