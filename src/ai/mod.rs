//! Clients for OpenAI-compatible HTTP APIs (OpenRouter, OpenAI, local servers):
//! chat completions for analysis and translation, audio transcriptions for
//! speech-to-text. Written on plain reqwest so any compatible server works.

pub mod chat;
mod endpoint;
pub mod error;
pub mod questions;
pub mod stt;

pub use chat::{
    ChatClient, ChatConfig, DEFAULT_CHAT_TIMEOUT, DEFAULT_MAX_INPUT_CHARS,
    DEFAULT_TRANSLATE_CHUNK_CHARS, trim_middle,
};
pub use error::AiError;
pub use questions::InsightQuestions;
pub use stt::{DEFAULT_STT_MODEL, DEFAULT_STT_TIMEOUT, SttClient, SttConfig, SttOutput};
