//! webex-recordings: Webex Calling recordings turned into searchable, summarised records.

pub mod access;
pub mod ai;
pub mod cli;
pub mod config;
pub mod domain;
pub mod http;
pub mod pipeline;
pub mod queue;
pub mod reconciler;
pub mod retention;
pub mod retry;
pub mod search;
pub mod signature;
pub mod startup;
pub mod storage;
pub mod store;
pub mod telemetry;
pub mod webex;
