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
