//! Where an AI client sends its requests: one OpenAI-compatible operation with its key and model.

use std::fmt;
use std::time::Duration;

use reqwest::RequestBuilder;
use secrecy::{ExposeSecret, SecretString};
use url::Url;

use super::AiError;

/// Connecting should never take long; a slow connect means the host is unreachable.
const MAX_CONNECT_TIMEOUT: Duration = Duration::from_secs(10);

/// `{base}/{path}` whether or not the base ends in a slash.
///
/// `Url::join` is not used on purpose: joining `chat/completions` onto
/// `https://openrouter.ai/api/v1` would replace the `v1` segment.
fn endpoint_url(base: &Url, path: &str) -> Url {
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
fn http_client(timeout: Duration) -> Result<reqwest::Client, AiError> {
    reqwest::Client::builder()
        .timeout(timeout)
        .connect_timeout(timeout.min(MAX_CONNECT_TIMEOUT))
        .user_agent(concat!("webex-recordings/", env!("CARGO_PKG_VERSION")))
        .build()
        .map_err(AiError::http)
}

/// One operation (`chat/completions`, `audio/transcriptions`) of an OpenAI-compatible server.
pub(super) struct Endpoint {
    http: reqwest::Client,
    url: Url,
    api_key: Option<SecretString>,
    pub(super) model: String,
}

impl Endpoint {
    pub(super) fn new(
        base: &Url,
        path: &str,
        timeout: Duration,
        api_key: Option<SecretString>,
        model: String,
    ) -> Result<Self, AiError> {
        Ok(Self {
            http: http_client(timeout)?,
            url: endpoint_url(base, path),
            api_key,
            model,
        })
    }

    /// POSTs what `body` adds to the request (with the key, if any) and returns the answer's
    /// body, or the error status with the start of its body.
    pub(super) async fn post(
        &self,
        body: impl FnOnce(RequestBuilder) -> RequestBuilder,
    ) -> Result<String, AiError> {
        let mut request = body(self.http.post(self.url.clone()));
        if let Some(key) = &self.api_key {
            request = request.bearer_auth(key.expose_secret());
        }
        let response = request.send().await.map_err(AiError::http)?;
        let status = response.status();
        let text = response.text().await.map_err(AiError::http)?;
        if !status.is_success() {
            return Err(AiError::status(status, &text));
        }
        Ok(text)
    }
}

impl fmt::Debug for Endpoint {
    // Hand-written so the key can never show up, even redacted.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Endpoint")
            .field("url", &self.url.as_str())
            .field("model", &self.model)
            .finish_non_exhaustive()
    }
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
            endpoint_url(&with, "chat/completions").as_str(),
            "https://openrouter.ai/api/v1/chat/completions"
        );
        assert_eq!(
            endpoint_url(&without, "chat/completions").as_str(),
            "https://openrouter.ai/api/v1/chat/completions"
        );
        assert_eq!(
            endpoint_url(&root, "audio/transcriptions").as_str(),
            "http://127.0.0.1:8080/audio/transcriptions"
        );
    }

    #[test]
    fn clients_show_where_and_which_model_but_never_the_key() {
        let base = Url::parse("https://llm.example/v1").unwrap();
        let key = || SecretString::from("sk-do-not-print".to_string());
        let chat =
            crate::ai::ChatClient::new(crate::ai::ChatConfig::new(base.clone(), key(), "m1"))
                .unwrap();
        let mut stt = crate::ai::SttConfig::new(base);
        stt.api_key = Some(key());
        let stt = crate::ai::SttClient::new(stt).unwrap();
        for shown in [
            format!("{chat:?}"),
            format!("{stt:?}"),
            format!("{chat:#?}"),
        ] {
            assert!(!shown.contains("sk-do-not-print"), "{shown}");
            assert!(shown.contains("https://llm.example/v1/"), "{shown}");
        }
        assert!(format!("{chat:?}").contains("m1"));
    }
}
