//! `edge-node`: the HTTP node that hosts edge workers, and the `edge` command line.
//!
//! Built on `edge-runtime` (one worker in one isolate); this crate owns everything around
//! it: reading worker folders ([`manifest`]) and the node's config ([`config`]), what a node
//! serves ([`catalog`], [`routing`]), the warm-worker cache ([`cache`]) of each worker's
//! isolates ([`slot`]), serving HTTP and TLS ([`server`], [`tls`], [`admin`]), metrics
//! ([`metrics`]), turning failures into responses ([`respond`]), and the `edge dev` and
//! `edge node` commands ([`dev`] with [`watch`], [`node`]), `edge bench` ([`bench`]), live
//! events for `edge tail` ([`tail`], through a cluster [`tail_cluster`]) and the admin
//! listener's dashboard ([`dashboard`]).

pub mod admin;
pub mod alerts;
pub mod bench;
pub mod bindings;
pub mod budget;
pub mod cache;
pub mod cache_api;
pub mod catalog;
pub mod client;
pub mod cluster;
pub mod config;
pub mod crons;
pub mod dashboard;
pub mod deploy;
pub mod dev;
pub mod fleet;
pub mod geo;
pub mod host;
pub mod kv;
pub mod manifest;
pub mod metrics;
pub mod node;
pub mod permissions;
pub mod queues;
pub mod rate;
pub mod respond;
pub mod router;
pub mod routing;
pub mod secrets;
pub mod server;
pub mod slot;
pub mod stats;
pub mod store;
pub mod tail;
pub mod tail_cluster;
pub mod tls;
pub mod trace;
pub mod typescript;
pub mod usage;
pub mod warm;
pub mod watch;
pub mod wire;
