//! Clients for OpenAI-compatible HTTP APIs (OpenRouter, OpenAI, local servers):
//! chat completions for analysis and translation, audio transcriptions for
//! speech-to-text. Written on plain reqwest so any compatible server works.

pub mod chat;
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

use std::time::Duration;

use url::Url;

/// Connecting should never take long; a slow connect means the host is unreachable.
const MAX_CONNECT_TIMEOUT: Duration = Duration::from_secs(10);

/// `{base}/{path}` whether or not the base ends in a slash.
///
/// `Url::join` is not used on purpose: joining `chat/completions` onto
/// `https://openrouter.ai/api/v1` would replace the `v1` segment.
pub(crate) fn endpoint(base: &Url, path: &str) -> Url {
    let mut url = base.clone();
    let joined = format!(
        "{}/{}",
        base.path().trim_end_matches('/'),
        path.trim_start_matches('/')
    );
    url.set_path(&joined);
    url
}

/// One HTTP client per AI client; `timeout` bounds each whole request
/// (connect, upload, waiting, reading the body).
pub(crate) fn http_client(timeout: Duration) -> Result<reqwest::Client, AiError> {
    reqwest::Client::builder()
        .timeout(timeout)
        .connect_timeout(timeout.min(MAX_CONNECT_TIMEOUT))
        .user_agent(concat!("webex-recordings/", env!("CARGO_PKG_VERSION")))
        .build()
        .map_err(AiError::Http)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn endpoint_handles_trailing_slash() {
        let with = Url::parse("https://openrouter.ai/api/v1/").unwrap();
        let without = Url::parse("https://openrouter.ai/api/v1").unwrap();
        let root = Url::parse("http://127.0.0.1:8080").unwrap();
        assert_eq!(
            endpoint(&with, "chat/completions").as_str(),
            "https://openrouter.ai/api/v1/chat/completions"
        );
        assert_eq!(
            endpoint(&without, "chat/completions").as_str(),
            "https://openrouter.ai/api/v1/chat/completions"
        );
        assert_eq!(
            endpoint(&root, "audio/transcriptions").as_str(),
            "http://127.0.0.1:8080/audio/transcriptions"
        );
    }
}
