//! Layer 11, `node`: a node assembled from its parts. The node's configuration ([`config`],
//! `node.toml`), the start both commands share ([`start`]: the cache, the routing table, the
//! request path and its background loops, built once in order), the admin listener's routes
//! ([`admin`]: health, metrics, the deploy API, the dashboard), `edge node` ([`run`]: listeners,
//! data directory, cluster, SIGHUP reloads) and `edge dev` ([`dev`], with [`watch`]).
//!
//! Uses every layer below; only the command line uses it.

pub mod admin;
pub mod config;
pub mod dev;
pub mod run;
pub mod start;
pub mod watch;
