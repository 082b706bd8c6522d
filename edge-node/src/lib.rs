//! `edge-node`: the HTTP node that hosts edge workers, and the `edge` command line.
//!
//! Built on `edge-runtime` (one worker in one isolate); this crate owns everything around
//! it: reading worker folders ([`manifest`]), serving HTTP ([`server`]), keeping each worker's
//! isolate ([`slot`]), turning failures into responses ([`respond`]) and the `edge dev`
//! command ([`dev`]).

pub mod config;
pub mod dev;
pub mod fleet;
pub mod host;
pub mod manifest;
pub mod node;
pub mod respond;
pub mod routing;
pub mod server;
pub mod slot;
pub mod wire;
