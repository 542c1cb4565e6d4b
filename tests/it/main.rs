//! Integration tests: one binary, so the crate and its dependencies link once.

mod ai;
mod alerts;
mod amqp;
mod api;
mod broker;
mod cli;
mod compliance;
mod console;
mod console_errors;
mod embedded_queue;
mod fake_webex;
mod front_door;
mod insight;
mod pipeline;
mod pipeline_ai;
mod reconciler;
mod redaction;
mod search;
mod shared_storage;
mod storage;
mod store;
mod support;
mod trackers;
mod webex_client;
mod webhook;
