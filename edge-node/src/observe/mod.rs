//! Layer 4, `observe`: what a node tells about itself. Prometheus metrics ([`metrics`]) and
//! each worker's recent figures ([`stats`]), usage metering ([`usage`]), daily CPU budgets
//! ([`budget`]) and the alerts they and spikes raise ([`alerts`]), W3C trace context and spans
//! ([`trace`]), live events for `edge tail` ([`tail`], across a cluster [`tail_cluster`]), and
//! the process-wide table of secret values every log line and event is redacted with
//! ([`redact`]).
//!
//! Uses `proto`, `manifest`, `catalog` and `state`. Nothing here runs a worker: the request
//! path (`serve`) feeds these parts, the isolates report into them.

pub mod alerts;
pub mod budget;
pub mod metrics;
pub mod redact;
pub mod stats;
pub mod tail;
pub mod tail_cluster;
pub mod trace;
pub mod usage;
