//! Observability tests, in a process of their own: the metrics recorder is process-wide, so the
//! counts asserted here are exact only without the other integration tests beside them. The
//! trace and log tests run the real binary as child processes and read what it sends and writes.

#[allow(dead_code)]
#[path = "../it/broker.rs"]
mod broker;
#[allow(dead_code)]
#[path = "../it/fake_webex.rs"]
mod fake_webex;
#[allow(dead_code)]
#[path = "../it/support.rs"]
mod support;

mod deploy;
mod logs;
mod metrics;
mod otlp;
mod service;
mod traces;
