//! The AI services (summary and speech-to-text) and the languages of what they write.

use secrecy::SecretString;
use url::Url;

use super::ConfigError;
use super::env::{Env, invalid};
use crate::ai::SttConfig;

pub const DEFAULT_SUMMARY_MODEL: &str = "openai/gpt-4o-mini";

#[derive(Debug, Clone)]
pub struct SummaryConfig {
    pub api_url: Url,
    pub api_key: Option<SecretString>,
    pub model: String,
}

/// `SUMMARY_API_URL`, `SUMMARY_API_KEY` and `SUMMARY_MODEL`.
pub(super) fn summary(env: &Env<'_>) -> Result<SummaryConfig, ConfigError> {
    Ok(SummaryConfig {
        api_url: env
            .url("SUMMARY_API_URL")?
            .unwrap_or_else(|| Url::parse("https://openrouter.ai/api/v1").expect("constant URL")),
        api_key: env.string("SUMMARY_API_KEY").map(Into::into),
        model: env
            .string("SUMMARY_MODEL")
            .unwrap_or_else(|| DEFAULT_SUMMARY_MODEL.into()),
    })
}

/// `STT_API_URL` (unset: no speech-to-text), `STT_API_KEY` and `STT_MODEL`.
pub(super) fn stt(env: &Env<'_>) -> Result<Option<SttConfig>, ConfigError> {
    Ok(env.url("STT_API_URL")?.map(|api_url| {
        let mut stt = SttConfig::new(api_url);
        stt.api_key = env.string("STT_API_KEY").map(Into::into);
        if let Some(model) = env.string("STT_MODEL") {
            stt.model = model;
        }
        stt
    }))
}

/// A two-letter ISO 639-1 code, lower-cased.
pub(super) fn language_code(
    env: &Env<'_>,
    name: &'static str,
) -> Result<Option<String>, ConfigError> {
    let Some(code) = env.string(name).map(|code| code.to_ascii_lowercase()) else {
        return Ok(None);
    };
    if code.len() == 2 && code.bytes().all(|b| b.is_ascii_lowercase()) {
        Ok(Some(code))
    } else {
        Err(invalid(
            name,
            "expected a two-letter ISO 639-1 code such as es or en",
        ))
    }
}
