//! Layer 12, `cli`: the `edge` command line. Its flags and subcommands ([`args`], the only
//! place flags and environment variables are read), what each command runs ([`commands`],
//! with logging set up in [`logging`]), and the client side of the admin API: `edge deploy`,
//! `list`, `versions`, `rollback`, `delete`, `status`, `tail`, `trigger`, `kv`, `usage`
//! ([`client`]), `edge secret` ([`secrets`]), `edge queues` ([`queues`]); and `edge bench`
//! ([`bench`]), which runs isolates in this process.
//!
//! The top layer: uses every layer below, and nothing uses it but `main.rs`.

pub mod args;
pub mod bench;
pub mod bench_node;
pub mod client;
pub mod commands;
pub mod flags;
pub mod kv;
pub mod logging;
pub mod queues;
pub mod secrets;
pub mod tail;
