//! The startup snapshot built by `build.rs`, and the extension scripts it does not contain.

/// The snapshot every isolate is restored from, when this build embeds one.
#[cfg(feature = "snapshot")]
pub static SNAPSHOT: Option<&[u8]> = Some(include_bytes!(concat!(env!("OUT_DIR"), "/SNAPSHOT.bin")));
/// The snapshot every isolate is restored from, when this build embeds one.
#[cfg(not(feature = "snapshot"))]
pub static SNAPSHOT: Option<&[u8]> = None;

/// Sources of lazily loaded extension scripts that are not inside the snapshot.
#[cfg(feature = "snapshot")]
pub static RESIDUAL_JS: &[(&str, &str)] = include!(concat!(env!("OUT_DIR"), "/residual_sources.rs"));
/// Sources of lazily loaded extension scripts that are not inside the snapshot.
#[cfg(not(feature = "snapshot"))]
pub static RESIDUAL_JS: &[(&str, &str)] = &[];

/// The `node:*` modules of Node compatibility and the code they share (`ext:edge_node/…`),
/// sorted by specifier: lazily loaded ES modules, evaluated only when a worker imports one
/// (`build/node.rs`).
pub static NODE_MODULES: &[(&str, &str)] = include!(concat!(env!("OUT_DIR"), "/node_sources.rs"));

/// Whether `specifier` names one of [`NODE_MODULES`].
pub fn is_node_module(specifier: &str) -> bool {
  node_module(specifier).is_some()
}

/// The source of one of [`NODE_MODULES`].
pub fn node_module(specifier: &str) -> Option<&'static str> {
  let at = NODE_MODULES.binary_search_by(|(name, _)| (*name).cmp(specifier)).ok()?;
  Some(NODE_MODULES[at].1)
}
