//! One integration-test binary (see `tests/src/lib.rs` for the harness).
//! Every test here runs real processes: etcd, dfoodd, dfood.

mod abuse;
mod archive;
mod auth;
mod authz;
mod bench;
mod board;
mod cluster;
mod config_samples;
mod containers;
mod crash;
mod daemon;
mod demo;
mod deploy;
mod docs;
mod events;
mod expiry;
mod failover;
mod history;
mod metrics;
mod ordering;
mod ownership;
mod payflow;
mod payments;
mod protocol_robustness;
mod robustness;
mod security;
mod store_conformance;
mod streams;
mod top;
