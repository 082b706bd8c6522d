//! `edge-node`: the HTTP node that hosts edge workers, and the `edge` command line.
//!
//! Built on `edge-runtime` (one worker in one isolate). The top-level modules are layers, each
//! using only those listed before it (a test, `tests/tests/layers.rs`, fails the build when an
//! import goes up a layer); each folder's `mod.rs` says what its layer owns:
//!
//! | # | layer | owns |
//! |---|---|---|
//! | 0 | [`proto`] | the response body type, the node ↔ host wire, signed geo data |
//! | 1 | [`manifest`] | a worker folder and its `edge.toml`, read into a `LoadedWorker` |
//! | 2 | [`catalog`] | deployments (one version of one worker) and the routing table |
//! | 3 | [`state`] | the data directory, embedded databases, the cluster's JetStream state |
//! | 4 | [`observe`] | metrics, recent figures, usage, budgets, alerts, traces, `edge tail` |
//! | 5 | [`isolates`] | the warm-worker cache and its isolates, here or in host processes |
//! | 6 | [`platform`] | what bindings reach: KV, Cache API, queues, secrets, crons, services |
//! | 7 | [`serve`] | listeners, TLS, the request pipeline's stages, failures as responses |
//! | 8 | [`router`] | `edge router`, the geo-aware front door of many nodes |
//! | 9 | [`deploy`] | the deploy API: uploads, versions, rollbacks, the cluster's changes |
//! | 10 | [`dashboard`] | the admin listener's dashboard |
//! | 11 | [`node`] | a node assembled from its parts: `edge node`, `edge dev` |
//! | 12 | [`cli`] | the `edge` command line and the client side of the admin API |

pub mod proto;

pub mod manifest;

pub mod catalog;

pub mod state;

pub mod observe;

pub mod isolates;

pub mod platform;

pub mod serve;

pub mod router;

pub mod deploy;

pub mod dashboard;

pub mod node;

pub mod cli;
