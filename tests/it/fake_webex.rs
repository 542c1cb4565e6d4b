//! A fake Webex for pipeline tests: recordings with details, metadata, audio and VTT, on wiremock.

use std::time::{Duration, Instant};

use secrecy::SecretString;
use serde_json::{Value, json};
use sha2::{Digest, Sha256};
use url::Url;
use webex_recordings::domain::{ProcessingStatus, Recording, RecordingId};
use webex_recordings::store::Store;
use webex_recordings::webex::{Auth, ClientSettings, RetryPolicy, WebexClient};
use wiremock::matchers::{method, path};
use wiremock::{Mock, MockBuilder, MockServer, ResponseTemplate};

pub(crate) const ES_ID: &str = "es0000000000000000000000000000a1";

pub(crate) const EN_ID: &str = "en0000000000000000000000000000b2";

pub(crate) const NT_ID: &str = "nt0000000000000000000000000000c3";

pub(crate) const ES_VTT: &str = "WEBVTT\n\n1\n00:00:00.000 --> 00:00:05.000\n<v Ana García>Hola, buenos días. Llamo porque la factura de este mes tiene un error importante.\n\n2\n00:00:05.500 --> 00:00:11.000\n<v Carlos Ruiz>Buenos días, Ana. Lo siento mucho, vamos a revisar la factura ahora mismo y le enviaremos una corrección.\n\n3\n00:00:11.500 --> 00:00:16.000\n<v Ana García>Perfecto, muchas gracias por la ayuda. Espero el correo con la factura corregida mañana.\n";

pub(crate) const EN_VTT: &str = "WEBVTT\n\n00:00:00.000 --> 00:00:04.000\n<v John Smith>Good morning, I am calling about the delivery of our new office chairs.\n\n00:00:04.500 --> 00:00:09.000\n<v Mary Jones>Thank you for calling. The chairs will arrive on Friday and the driver will call you first.\n\n00:00:09.500 --> 00:00:13.000\n<v John Smith>Great, that works well for us. Please send me the tracking number by email.\n";

/// One recording served by the fake Webex.
pub(crate) struct FakeRecording {
    pub(crate) id: &'static str,
    pub(crate) audio: Vec<u8>,
    pub(crate) vtt: Option<&'static str>,
    /// The title in the details.
    pub(crate) topic: &'static str,
    /// The metadata's `serviceData`: the parties and participants.
    pub(crate) service_data: Value,
    /// A person of its own in the People API: id and display name.
    pub(crate) person: Option<(&'static str, &'static str)>,
}

impl FakeRecording {
    pub(crate) fn new(id: &'static str, vtt: Option<&'static str>) -> Self {
        // Distinct bytes per recording, so a mixed-up file shows in the hash.
        let audio = (0..20_000u32)
            .map(|i| (i.wrapping_mul(31) ^ u32::from(id.as_bytes()[0])) as u8)
            .collect();
        Self {
            id,
            audio,
            vtt,
            topic: "Call",
            service_data: json!({
                "callingParty": {"actor": {"type": "PERSON", "id": "person-1"}, "number": "sip:4060@example.com;user=phone"},
                "calledParty": {"number": "+34911222333"},
                "callActivity": [{"participants": [
                    {"actor": {"type": "PERSON", "id": "person-1"}, "aor": "sip:4060@example.com"},
                    {"aor": "+34911222333"}
                ]}]
            }),
            person: None,
        }
    }

    pub(crate) fn details(&self, server: &MockServer, with_links: bool) -> Value {
        let mut links = json!({
            "audioDownloadLink": format!("{}/files/{}.mp3?ticket=t", server.uri(), self.id),
            "expiration": "2099-01-01T00:00:00Z",
        });
        if self.vtt.is_some() {
            links["transcriptDownloadLink"] =
                json!(format!("{}/files/{}.vtt?ticket=t", server.uri(), self.id));
        }
        let mut body = json!({
            "id": self.id,
            "topic": self.topic,
            "createTime": "2025-03-04T10:05:00Z",
            "timeRecorded": "2025-03-04T10:00:00Z",
            "format": "MP3",
            "durationSeconds": 16,
            "sizeBytes": self.audio.len(),
            "status": "available",
        });
        if with_links {
            body["temporaryDirectDownloadLinks"] = links;
        }
        body
    }

    /// Metadata, person and files; details are mounted by the caller or `mount`.
    pub(crate) async fn mount_rest(&self, server: &MockServer) {
        on(
            "GET",
            format!("/v1/convergedRecordings/{}/metadata", self.id),
        )
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({
            "id": self.id,
            "serviceData": self.service_data,
        })))
        .mount(server)
        .await;
        if let Some((id, name)) = self.person {
            on("GET", format!("/v1/people/{id}"))
                .respond_with(
                    ResponseTemplate::new(200)
                        .set_body_json(json!({"id": id, "displayName": name})),
                )
                .mount(server)
                .await;
        }
        on("GET", format!("/files/{}.mp3", self.id))
            .respond_with(ResponseTemplate::new(200).set_body_bytes(self.audio.clone()))
            .mount(server)
            .await;
        if let Some(vtt) = self.vtt {
            on("GET", format!("/files/{}.vtt", self.id))
                .respond_with(ResponseTemplate::new(200).set_body_string(vtt))
                .mount(server)
                .await;
        }
    }

    /// The audio answered after `delay` (mounted before `mount`, it takes precedence).
    pub(crate) async fn mount_slow_audio(&self, server: &MockServer, delay: Duration) {
        on("GET", format!("/files/{}.mp3", self.id))
            .respond_with(
                ResponseTemplate::new(200)
                    .set_body_bytes(self.audio.clone())
                    .set_delay(delay),
            )
            .with_priority(1)
            .mount(server)
            .await;
    }

    pub(crate) async fn mount(&self, server: &MockServer) {
        on("GET", format!("/v1/convergedRecordings/{}", self.id))
            .respond_with(ResponseTemplate::new(200).set_body_json(self.details(server, true)))
            .mount(server)
            .await;
        self.mount_rest(server).await;
    }
}

pub(crate) async fn fake_webex() -> MockServer {
    let server = MockServer::start().await;
    on("GET", "/v1/people/person-1")
        .respond_with(
            ResponseTemplate::new(200)
                .set_body_json(json!({"id": "person-1", "displayName": "Ana García"})),
        )
        .mount(&server)
        .await;
    server
}

/// A mock of `verb` on `at` (a path under the Webex API's `/v1`).
pub(crate) fn on(verb: &str, at: impl Into<String>) -> MockBuilder {
    Mock::given(method(verb)).and(path(at))
}

pub(crate) async fn hits(server: &MockServer, wanted: &str) -> usize {
    server
        .received_requests()
        .await
        .unwrap_or_default()
        .iter()
        .filter(|r| r.url.path() == wanted)
        .count()
}

/// The Webex client the tests use against a fake at `server`: quick retries, up to 3 attempts.
pub(crate) fn webex(server: &MockServer) -> WebexClient {
    webex_at(&format!("{}/v1", server.uri()), 3)
}

/// A test Webex client for the API base `base`, making at most `max_attempts` per request.
pub(crate) fn webex_at(base: &str, max_attempts: u32) -> WebexClient {
    WebexClient::new(
        ClientSettings {
            base_url: Url::parse(base).unwrap(),
            request_timeout: Duration::from_secs(10),
            retry: RetryPolicy {
                max_attempts,
                base_delay: Duration::from_millis(1),
                max_delay: Duration::from_millis(5),
                max_retry_after: Duration::from_secs(2),
                jitter: false,
            },
        },
        Auth::Static(SecretString::from("token")),
    )
    .unwrap()
}

/// The stored row of a recording that must exist.
pub(crate) async fn stored(store: &Store, id: &str) -> Recording {
    store
        .get_recording(&RecordingId::parse(id).unwrap())
        .await
        .unwrap()
        .unwrap_or_else(|| panic!("{id} is stored"))
}

pub(crate) async fn status_of(store: &Store, id: &str) -> Option<ProcessingStatus> {
    store
        .get_recording(&RecordingId::parse(id).unwrap())
        .await
        .unwrap()
        .map(|r| r.processing_status)
}

pub(crate) async fn wait_final(store: &Store, id: &str, within: Duration) -> ProcessingStatus {
    let deadline = Instant::now() + within;
    loop {
        if let Some(s) = status_of(store, id).await
            && matches!(
                s,
                ProcessingStatus::Completed | ProcessingStatus::Partial | ProcessingStatus::Failed
            )
        {
            return s;
        }
        assert!(
            Instant::now() < deadline,
            "{id} not finished in {within:?} (now {:?})",
            status_of(store, id).await
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

pub(crate) fn sha256_hex(bytes: &[u8]) -> String {
    hex::encode(Sha256::digest(bytes))
}
