//! Layer 3, `state`: where a node keeps what outlives a process. The data directory
//! ([`store`]: the immutable versions of each worker and the active one, written crash-safely),
//! the embedded databases in it ([`embedded`]: one opener for every redb file), and the
//! cluster's state in NATS JetStream ([`cluster`]: bundles, the workers' bucket, the live
//! nodes' reports), and whether that server keeps what it acknowledges ([`durability`]).
//!
//! Uses `proto`, `manifest` and `catalog`; knows nothing of isolates, requests or the API.

pub mod cluster;
pub mod durability;
pub mod embedded;
pub mod store;
