//! Clients for OpenAI-compatible HTTP APIs (OpenRouter, OpenAI, local servers):
//! chat completions for analysis and translation, audio transcriptions for
//! speech-to-text. Written on plain reqwest so any compatible server works.

mod budget;
pub mod chat;
mod endpoint;
pub mod error;
pub mod questions;
mod reply;
pub mod stt;

pub use budget::trim_middle;
pub use chat::{
    ChatClient, ChatConfig, DEFAULT_CHAT_TIMEOUT, DEFAULT_MAX_INPUT_CHARS,
    DEFAULT_TRANSLATE_CHUNK_CHARS,
};
pub use error::AiError;
pub use questions::InsightQuestions;
pub use stt::{DEFAULT_STT_MODEL, DEFAULT_STT_TIMEOUT, SttClient, SttConfig, SttOutput};
