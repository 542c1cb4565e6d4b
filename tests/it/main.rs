//! Integration tests: one binary, so the crate and its dependencies link once.

mod ai;
mod embedded_queue;
mod amqp;
mod api;
mod store;
mod support;
mod webex_client;
mod webhook;
