//! Integration tests: one binary, so the crate and its dependencies link once.

mod ai;
mod amqp;
mod api;
mod broker;
mod cli;
mod compliance;
mod console;
mod embedded_queue;
mod fake_webex;
mod front_door;
mod pipeline;
mod pipeline_ai;
mod reconciler;
mod redaction;
mod shared_storage;
mod storage;
mod search;
mod store;
mod support;
mod webex_client;
mod webhook;
