//! Layer 0, `proto`: what crosses a boundary between processes or layers, as plain formats:
//! the response [`Body`] every layer answers with, the request body the listeners hand on
//! ([`ClientBody`]), the wire between a node and its isolate
//! host processes ([`wire`]), and geo data signed by the router for the node ([`geo`]).
//!
//! Uses nothing of this crate; every other layer may use it.

pub mod body;
pub mod geo;
pub mod wire;

pub use body::{boxed, Body, ClientBody};
