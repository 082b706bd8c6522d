//! The ops behind Node.js compatibility's modules (`runtime/node/src/*.mjs`): what Node's
//! synchronous APIs need and the Web APIs cannot give. `hash` (digests and HMACs of
//! `node:crypto`), `crypto` (ciphers, signatures, keys, key derivation of `node:crypto`),
//! `zlib` (`node:zlib`'s compression). None of them is used by a worker without Node
//! compatibility.
//!
//! Also compiled into `build.rs` and `benches/heap` (through `#[path]`), with the other ops;
//! tested through workers against Node's own answers (`tests/tests/node_*.rs`).

mod crypto;
mod hash;
mod zlib;

pub use crypto::*;
pub use hash::*;
pub use zlib::*;
