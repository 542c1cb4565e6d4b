//! One typed configuration, read once at start from the environment (and `.env`).
//!
//! Every variable of CONTRACT.md is here with its default. A bad value stops the program with a
//! message naming the variable and what it expects; secrets never show in `Debug`.

use std::net::SocketAddr;
use std::path::PathBuf;
use std::time::Duration;

use call_analysis::redact::RedactKinds;
use secrecy::SecretString;
use url::Url;

use crate::ai::SttConfig;
use crate::reconciler::ServiceTypes;
use crate::webex::{Auth, OAuthCredentials};

#[derive(Debug, thiserror::Error, PartialEq, Eq)]
#[error("{name}: {problem}")]
pub struct ConfigError {
    pub name: &'static str,
    pub problem: String,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LogFormat {
    Text,
    Json,
}

#[derive(Debug, Clone)]
pub struct TlsFiles {
    pub cert: PathBuf,
    pub key: PathBuf,
}

#[derive(Debug, Clone)]
pub struct SummaryConfig {
    pub api_url: Url,
    pub api_key: Option<SecretString>,
    pub model: String,
}

/// Where audio and transcripts are kept (`STORAGE_URL`).
#[derive(Debug, Clone)]
pub enum StorageConfig {
    /// Files under `DATA_DIR`.
    Local,
    /// Objects in an S3-compatible bucket.
    S3(Box<crate::storage::S3Settings>),
}

#[derive(Debug, Clone)]
pub struct Config {
    pub database_url: SecretString,
    pub amqp_url: Option<SecretString>,
    pub listen_addr: SocketAddr,
    pub tls: Option<TlsFiles>,
    pub webex_api_url: Url,
    /// How we authenticate to Webex; `None`: no credentials.
    pub webex_auth: Option<Auth>,
    pub webhook_secret: Option<SecretString>,
    pub api_token: Option<SecretString>,
    pub data_dir: PathBuf,
    pub storage: StorageConfig,
    pub worker_concurrency: usize,
    /// `None`: the scheduled reconcile is off.
    pub backfill_interval: Option<Duration>,
    /// `RECONCILE_SERVICE_TYPES`: `calling` (default) or `all` converged recordings.
    pub reconcile_service_types: ServiceTypes,
    pub summary: SummaryConfig,
    pub stt: Option<SttConfig>,
    pub summary_language: String,
    pub translate_to: Option<String>,
    /// What the pipeline replaces in transcripts and everything derived from them (`REDACT`).
    pub redact: RedactKinds,
    pub redirect_uri: Url,
    pub rust_log: String,
    pub log_format: LogFormat,
    /// `OTEL_EXPORTER_OTLP_ENDPOINT`: base URL of an OTLP/HTTP collector; unset: no trace export.
    pub otel_endpoint: Option<Url>,
    /// Worker timings (heartbeat, takeover, retry backoff). Not read from the environment:
    /// the defaults suit Webex; tests shorten them.
    pub pipeline: crate::pipeline::PipelineSettings,
    /// What `/auth/login` asks Webex for (`WEBEX_SCOPES`, space-separated).
    pub webex_scopes: Vec<String>,
    pub http_limits: HttpLimits,
    /// `ALERT_WEBHOOK_URL` and its secret; `None`: no alerts are written or sent.
    pub alerts: Option<crate::alerts::AlertConfig>,
    /// Recordings older than this are purged (`RETENTION_DAYS`); None keeps them forever.
    pub retention: Option<Duration>,
    /// `INSIGHT_QUESTIONS`: the questions file, read at start.
    pub insight_questions: Option<std::sync::Arc<crate::ai::InsightQuestions>>,
}

/// The front door's limits.
#[derive(Debug, Clone)]
pub struct HttpLimits {
    /// Every request's whole handling, Webex calls made while the client waits included
    /// (`REQUEST_TIMEOUT`). Streaming a response body after its headers is not bounded by it.
    pub request_timeout: Duration,
    /// A connection must have sent complete request headers within this (fixed by the contract).
    pub header_timeout: Duration,
    /// Open connections at most (`MAX_CONNECTIONS`); past it new ones wait in the kernel's
    /// backlog, so the process stays under its file limit.
    pub max_connections: usize,
}

impl Default for HttpLimits {
    fn default() -> Self {
        Self {
            request_timeout: Duration::from_secs(30),
            header_timeout: Duration::from_secs(10),
            max_connections: 1024,
        }
    }
}

pub const DEFAULT_SUMMARY_MODEL: &str = "openai/gpt-4o-mini";

impl Config {
    /// Reads `.env` (if present) and the process environment.
    pub fn from_env() -> Result<Self, ConfigError> {
        // A missing .env is the normal case; a malformed one is not silently ignored.
        match dotenvy::dotenv() {
            Ok(_) => {}
            Err(e) if e.not_found() => {}
            Err(e) => {
                return Err(ConfigError {
                    name: ".env",
                    problem: e.to_string(),
                });
            }
        }
        Self::from_lookup(|name| std::env::var(name).ok())
    }

    /// Builds the configuration from any lookup (tests pass a map instead of the environment).
    pub fn from_lookup(lookup: impl Fn(&str) -> Option<String>) -> Result<Self, ConfigError> {
        let env = Env(&lookup);

        let database_url = env
            .string("DATABASE_URL")
            .unwrap_or_else(|| "sqlite://data/webex-recordings.db".into());
        if !(database_url.starts_with("sqlite:")
            || database_url.starts_with("postgres://")
            || database_url.starts_with("postgresql://"))
        {
            return Err(invalid(
                "DATABASE_URL",
                "expected sqlite://PATH or postgres://…",
            ));
        }

        let amqp_url = env.string("AMQP_URL");
        if let Some(url) = &amqp_url
            && !(url.starts_with("amqp://") || url.starts_with("amqps://"))
        {
            return Err(invalid("AMQP_URL", "expected amqp://… or amqps://…"));
        }

        let listen_addr: SocketAddr = env
            .parse("LISTEN_ADDR", "an address like 127.0.0.1:8000")?
            .unwrap_or_else(|| SocketAddr::from(([127, 0, 0, 1], 8000)));

        let tls = match (env.string("TLS_CERT"), env.string("TLS_KEY")) {
            (None, None) => None,
            (Some(cert), Some(key)) => Some(TlsFiles {
                cert: cert.into(),
                key: key.into(),
            }),
            (Some(_), None) => return Err(invalid("TLS_KEY", "required when TLS_CERT is set")),
            (None, Some(_)) => return Err(invalid("TLS_CERT", "required when TLS_KEY is set")),
        };

        let webex_api_url = env
            .url("WEBEX_API_URL")?
            .unwrap_or_else(|| Url::parse("https://webexapis.com/v1").expect("constant URL"));

        let webex_auth = match (
            env.string("WEBEX_ACCESS_TOKEN"),
            env.string("WEBEX_CLIENT_ID"),
            env.string("WEBEX_CLIENT_SECRET"),
        ) {
            (Some(token), _, _) => Some(Auth::Static(token.into())),
            (None, Some(client_id), Some(secret)) => Some(Auth::OAuth(OAuthCredentials {
                client_id,
                client_secret: secret.into(),
                refresh_token: env.string("WEBEX_REFRESH_TOKEN").map(Into::into),
            })),
            (None, Some(_), None) => {
                return Err(invalid(
                    "WEBEX_CLIENT_SECRET",
                    "required when WEBEX_CLIENT_ID is set",
                ));
            }
            (None, None, Some(_)) => {
                return Err(invalid(
                    "WEBEX_CLIENT_ID",
                    "required when WEBEX_CLIENT_SECRET is set",
                ));
            }
            (None, None, None) => {
                if env.string("WEBEX_REFRESH_TOKEN").is_some() {
                    return Err(invalid(
                        "WEBEX_REFRESH_TOKEN",
                        "needs WEBEX_CLIENT_ID and WEBEX_CLIENT_SECRET",
                    ));
                }
                None
            }
        };

        let worker_concurrency: usize = env
            .parse("WORKER_CONCURRENCY", "a whole number from 1 to 256")?
            .unwrap_or(8);
        if !(1..=256).contains(&worker_concurrency) {
            return Err(invalid(
                "WORKER_CONCURRENCY",
                "expected a whole number from 1 to 256",
            ));
        }

        let reconcile_service_types = env
            .parse("RECONCILE_SERVICE_TYPES", "calling or all")?
            .unwrap_or_default();
        let backfill_interval = match env.string("BACKFILL_INTERVAL").as_deref() {
            None => Some(Duration::from_secs(3600)),
            Some("0") => None,
            Some(raw) => match humantime::parse_duration(raw) {
                Ok(d) if d >= Duration::from_secs(1) => Some(d),
                _ => {
                    return Err(invalid(
                        "BACKFILL_INTERVAL",
                        "expected a duration like 15m, 1h or 0 to disable (at least 1s)",
                    ));
                }
            },
        };

        let summary = SummaryConfig {
            api_url: env.url("SUMMARY_API_URL")?.unwrap_or_else(|| {
                Url::parse("https://openrouter.ai/api/v1").expect("constant URL")
            }),
            api_key: env.string("SUMMARY_API_KEY").map(Into::into),
            model: env
                .string("SUMMARY_MODEL")
                .unwrap_or_else(|| DEFAULT_SUMMARY_MODEL.into()),
        };

        let stt = env.url("STT_API_URL")?.map(|api_url| {
            let mut stt = SttConfig::new(api_url);
            stt.api_key = env.string("STT_API_KEY").map(Into::into);
            if let Some(model) = env.string("STT_MODEL") {
                stt.model = model;
            }
            stt
        });

        let summary_language = match env.string("SUMMARY_LANGUAGE") {
            None => "es".to_string(),
            Some(code) => language_code("SUMMARY_LANGUAGE", code)?,
        };
        let translate_to = env
            .string("TRANSLATE_TO")
            .map(|code| language_code("TRANSLATE_TO", code))
            .transpose()?;

        let redact = env
            .parse(
                "REDACT",
                "all, none or a comma-separated list of card,cvv,expiry,iban,national_id,email,phone",
            )?
            .unwrap_or_default();
        let storage = storage_config(&env)?;

        let scheme = if tls.is_some() { "https" } else { "http" };
        let redirect_uri =
            match env.url("WEBEX_REDIRECT_URI")? {
                Some(url) => url,
                None => Url::parse(&format!("{scheme}://{listen_addr}/auth/callback")).map_err(
                    |_| invalid("LISTEN_ADDR", "cannot form the default OAuth redirect URI"),
                )?,
            };

        let log_format = match env.string("LOG_FORMAT").as_deref() {
            None | Some("text") => LogFormat::Text,
            Some("json") => LogFormat::Json,
            Some(_) => return Err(invalid("LOG_FORMAT", "expected text or json")),
        };

        let webex_scopes = match env.string("WEBEX_SCOPES") {
            None => crate::webex::access::DEFAULT_SCOPES
                .iter()
                .map(|s| s.to_string())
                .collect(),
            Some(raw) => {
                let scopes: Vec<String> = raw.split_whitespace().map(String::from).collect();
                if scopes.is_empty() || scopes.iter().any(|s| !s.is_ascii() || s.contains('"')) {
                    return Err(invalid(
                        "WEBEX_SCOPES",
                        "expected space-separated Webex scopes such as spark:recordings_read",
                    ));
                }
                scopes
            }
        };

        let defaults = HttpLimits::default();
        let request_timeout = match env.string("REQUEST_TIMEOUT") {
            None => defaults.request_timeout,
            Some(raw) => match humantime::parse_duration(&raw) {
                Ok(d) if d >= Duration::from_secs(1) => d,
                _ => {
                    return Err(invalid(
                        "REQUEST_TIMEOUT",
                        "expected a duration like 30s or 2m (at least 1s)",
                    ));
                }
            },
        };
        let max_connections: usize = env
            .parse("MAX_CONNECTIONS", "a whole number from 16 to 1000000")?
            .unwrap_or(defaults.max_connections);
        if !(16..=1_000_000).contains(&max_connections) {
            return Err(invalid(
                "MAX_CONNECTIONS",
                "expected a whole number from 16 to 1000000",
            ));
        }
        let http_limits = HttpLimits {
            request_timeout,
            max_connections,
            ..defaults
        };

        let alerts = alert_config(&env)?;
        let retention = match env.string("RETENTION_DAYS") {
            None => None,
            Some(raw) => match raw.parse::<u32>() {
                Ok(days) if (1..=36_500).contains(&days) => {
                    Some(Duration::from_secs(u64::from(days) * 86_400))
                }
                _ => {
                    return Err(invalid(
                        "RETENTION_DAYS",
                        "expected a whole number of days from 1 to 36500",
                    ));
                }
            },
        };

        Ok(Self {
            database_url: database_url.into(),
            amqp_url: amqp_url.map(Into::into),
            listen_addr,
            tls,
            webex_api_url,
            webex_auth,
            webhook_secret: env.string("WEBEX_WEBHOOK_SECRET").map(Into::into),
            api_token: env.string("API_TOKEN").map(Into::into),
            data_dir: env
                .string("DATA_DIR")
                .unwrap_or_else(|| "data".into())
                .into(),
            storage,
            worker_concurrency,
            backfill_interval,
            reconcile_service_types,
            summary,
            stt,
            summary_language,
            translate_to,
            redact,
            redirect_uri,
            rust_log: env.string("RUST_LOG").unwrap_or_else(|| "info".into()),
            log_format,
            otel_endpoint: env.url("OTEL_EXPORTER_OTLP_ENDPOINT")?,
            pipeline: crate::pipeline::PipelineSettings::default(),
            webex_scopes,
            http_limits,
            alerts,
            retention,
            insight_questions: env
                .string("INSIGHT_QUESTIONS")
                .map(|path| crate::ai::InsightQuestions::load(std::path::Path::new(&path)))
                .transpose()
                .map_err(|problem| ConfigError {
                    name: "INSIGHT_QUESTIONS",
                    problem,
                })?
                .map(std::sync::Arc::new),
        })
    }
}

/// `ALERT_WEBHOOK_URL`, `ALERT_WEBHOOK_SECRET` (required with the URL) and `ALERT_ALLOW_PRIVATE`.
fn alert_config(env: &Env<'_>) -> Result<Option<crate::alerts::AlertConfig>, ConfigError> {
    let Some(url) = env.url("ALERT_WEBHOOK_URL")? else {
        return Ok(None);
    };
    const SECRET: &str = "ALERT_WEBHOOK_SECRET";
    let secret = env.string(SECRET).ok_or_else(|| {
        invalid(
            SECRET,
            "required with ALERT_WEBHOOK_URL: whsec_ followed by base64",
        )
    })?;
    crate::alerts::SigningKey::parse(&secret).map_err(|problem| invalid(SECRET, problem))?;
    let allow_private = match env.string("ALERT_ALLOW_PRIVATE").as_deref() {
        None | Some("false") => false,
        Some("true") => true,
        Some(_) => return Err(invalid("ALERT_ALLOW_PRIVATE", "expected true or false")),
    };
    Ok(Some(crate::alerts::AlertConfig {
        url,
        secret: secret.into(),
        allow_private,
        delivery: crate::alerts::DeliverySettings::default(),
    }))
}

fn invalid(name: &'static str, problem: &str) -> ConfigError {
    ConfigError {
        name,
        problem: problem.to_string(),
    }
}

/// `STORAGE_URL=s3://BUCKET[/PREFIX]` with the standard `AWS_*` variables; unset: local files.
fn storage_config(env: &Env<'_>) -> Result<StorageConfig, ConfigError> {
    let Some(raw) = env.string("STORAGE_URL") else {
        return Ok(StorageConfig::Local);
    };
    let expected = "expected s3://BUCKET or s3://BUCKET/PREFIX";
    let rest = raw
        .strip_prefix("s3://")
        .ok_or_else(|| invalid("STORAGE_URL", expected))?;
    let (bucket, prefix) = rest.split_once('/').unwrap_or((rest, ""));
    // S3 bucket naming rules: 3–63 lowercase letters, digits, dots and hyphens.
    let bucket_ok = (3..=63).contains(&bucket.len())
        && bucket
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'.' || b == b'-');
    let prefix = prefix.trim_matches('/');
    let prefix_ok = prefix
        .split('/')
        .all(|s| prefix.is_empty() || !(s.is_empty() || s == "." || s == ".."));
    if !bucket_ok || !prefix_ok {
        return Err(invalid("STORAGE_URL", expected));
    }
    let allow_http = match env.string("AWS_ALLOW_HTTP").map(|v| v.to_ascii_lowercase()) {
        None => false,
        Some(v) if v == "true" => true,
        Some(v) if v == "false" => false,
        Some(_) => return Err(invalid("AWS_ALLOW_HTTP", "expected true or false")),
    };
    Ok(StorageConfig::S3(Box::new(crate::storage::S3Settings {
        bucket: bucket.to_string(),
        prefix: (!prefix.is_empty()).then(|| prefix.to_string()),
        endpoint: env.url("AWS_ENDPOINT_URL")?,
        region: env.string("AWS_REGION"),
        access_key_id: env.string("AWS_ACCESS_KEY_ID"),
        secret_access_key: env.string("AWS_SECRET_ACCESS_KEY").map(Into::into),
        allow_http,
    })))
}

fn language_code(name: &'static str, code: String) -> Result<String, ConfigError> {
    let code = code.to_ascii_lowercase();
    if code.len() == 2 && code.bytes().all(|b| b.is_ascii_lowercase()) {
        Ok(code)
    } else {
        Err(invalid(
            name,
            "expected a two-letter ISO 639-1 code such as es or en",
        ))
    }
}

/// Reads variables; empty values count as unset (a common `.env` habit: `API_TOKEN=`).
struct Env<'a>(&'a dyn Fn(&str) -> Option<String>);

impl Env<'_> {
    fn string(&self, name: &str) -> Option<String> {
        (self.0)(name)
            .map(|v| v.trim().to_string())
            .filter(|v| !v.is_empty())
    }

    fn parse<T: std::str::FromStr>(
        &self,
        name: &'static str,
        expected: &str,
    ) -> Result<Option<T>, ConfigError> {
        self.string(name)
            .map(|raw| {
                raw.parse()
                    .map_err(|_| invalid(name, &format!("expected {expected}, got {raw:?}")))
            })
            .transpose()
    }

    fn url(&self, name: &'static str) -> Result<Option<Url>, ConfigError> {
        self.string(name)
            .map(|raw| match Url::parse(&raw) {
                Ok(url) if matches!(url.scheme(), "http" | "https") => Ok(url),
                _ => Err(invalid(
                    name,
                    &format!("expected an http:// or https:// URL, got {raw:?}"),
                )),
            })
            .transpose()
    }
}

#[cfg(test)]
mod tests {
    use std::collections::HashMap;

    use secrecy::ExposeSecret;

    use super::*;

    fn config(vars: &[(&str, &str)]) -> Result<Config, ConfigError> {
        let map: HashMap<String, String> = vars
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect();
        Config::from_lookup(|name| map.get(name).cloned())
    }

    #[test]
    fn nothing_set_gives_the_contract_defaults() {
        let c = config(&[]).expect("defaults are valid");
        assert_eq!(
            c.database_url.expose_secret(),
            "sqlite://data/webex-recordings.db"
        );
        assert!(c.amqp_url.is_none());
        assert_eq!(c.listen_addr.to_string(), "127.0.0.1:8000");
        assert_eq!(c.webex_api_url.as_str(), "https://webexapis.com/v1");
        assert_eq!(c.data_dir, PathBuf::from("data"));
        assert_eq!(c.worker_concurrency, 8);
        assert_eq!(c.backfill_interval, Some(Duration::from_secs(3600)));
        assert_eq!(c.summary.api_url.as_str(), "https://openrouter.ai/api/v1");
        assert!(c.summary.api_key.is_none());
        assert!(c.stt.is_none());
        assert_eq!(c.summary_language, "es");
        assert_eq!(
            c.redirect_uri.as_str(),
            "http://127.0.0.1:8000/auth/callback"
        );
        assert_eq!(c.log_format, LogFormat::Text);
    }

    #[test]
    fn each_invalid_variable_is_refused_by_name() {
        let cases: &[(&str, &str)] = &[
            ("DATABASE_URL", "mysql://x"),
            ("AMQP_URL", "http://broker"),
            ("LISTEN_ADDR", "localhost"),
            ("TLS_CERT", "cert.pem"),
            ("WEBEX_API_URL", "not a url"),
            ("WEBEX_CLIENT_ID", "abc"),
            ("WEBEX_REFRESH_TOKEN", "abc"),
            ("WORKER_CONCURRENCY", "0"),
            ("WORKER_CONCURRENCY", "many"),
            ("BACKFILL_INTERVAL", "soon"),
            ("SUMMARY_API_URL", "ftp://x"),
            ("STT_API_URL", "nope"),
            ("SUMMARY_LANGUAGE", "spanish"),
            ("TRANSLATE_TO", "e"),
            ("WEBEX_REDIRECT_URI", "::"),
            ("LOG_FORMAT", "xml"),
            ("REDACT", "card,passport"),
            ("STORAGE_URL", "/srv/audio"),
            ("STORAGE_URL", "s3://"),
            ("STORAGE_URL", "s3://Bad_Bucket"),
            ("STORAGE_URL", "s3://bucket/a/../b"),
            ("RECONCILE_SERVICE_TYPES", "meetings"),
        ];
        for (name, value) in cases {
            let err = config(&[(name, value)]).expect_err(name);
            let expected_name = match *name {
                "TLS_CERT" => "TLS_KEY",
                "WEBEX_CLIENT_ID" => "WEBEX_CLIENT_SECRET",
                other => other,
            };
            assert_eq!(err.name, expected_name, "{name}={value}: {err}");
            assert!(err.to_string().starts_with(expected_name), "{err}");
        }
    }

    #[test]
    fn alerts_need_a_whsec_secret_with_the_url() {
        let url = ("ALERT_WEBHOOK_URL", "https://hooks.example.com/x");
        assert!(config(&[]).expect("valid").alerts.is_none());
        let missing = config(&[url]).expect_err("secret required");
        assert_eq!(missing.name, "ALERT_WEBHOOK_SECRET");
        let bad = config(&[url, ("ALERT_WEBHOOK_SECRET", "plain")]).expect_err("whsec_");
        assert_eq!(bad.name, "ALERT_WEBHOOK_SECRET");
        let ok = config(&[url, ("ALERT_WEBHOOK_SECRET", "whsec_c2VjcmV0")]).expect("valid");
        let alerts = ok.alerts.expect("alerts on");
        assert!(!alerts.allow_private);
        assert!(!format!("{alerts:?}").contains("c2VjcmV0"));
        let private = config(&[
            url,
            ("ALERT_WEBHOOK_SECRET", "whsec_c2VjcmV0"),
            ("ALERT_ALLOW_PRIVATE", "true"),
        ])
        .expect("valid");
        assert!(private.alerts.expect("alerts on").allow_private);
    }

    #[test]
    fn redact_defaults_to_card_data_and_ids() {
        use call_analysis::redact::RedactKind;
        let c = config(&[]).expect("valid");
        assert_eq!(c.redact, RedactKinds::default());
        assert!(c.redact.contains(RedactKind::Card) && !c.redact.contains(RedactKind::Phone));
        let c = config(&[("REDACT", "email, phone")]).expect("valid");
        assert!(c.redact.contains(RedactKind::Phone) && !c.redact.contains(RedactKind::Card));
        assert!(
            config(&[("REDACT", "none")])
                .expect("valid")
                .redact
                .is_empty()
        );
    }

    #[test]
    fn reconcile_service_types_default_to_calling() {
        let c = config(&[]).unwrap();
        assert_eq!(c.reconcile_service_types, ServiceTypes::Calling);
        let c = config(&[("RECONCILE_SERVICE_TYPES", "all")]).unwrap();
        assert_eq!(c.reconcile_service_types, ServiceTypes::All);
    }

    #[test]
    fn backfill_interval_zero_disables_the_schedule() {
        let c = config(&[("BACKFILL_INTERVAL", "0")]).expect("valid");
        assert_eq!(c.backfill_interval, None);
        let c = config(&[("BACKFILL_INTERVAL", "15m")]).expect("valid");
        assert_eq!(c.backfill_interval, Some(Duration::from_secs(900)));
    }

    #[test]
    fn oauth_credentials_are_picked_up_and_secrets_stay_out_of_debug() {
        let c = config(&[
            ("WEBEX_CLIENT_ID", "client-1"),
            ("WEBEX_CLIENT_SECRET", "very-secret-value"),
            ("WEBEX_REFRESH_TOKEN", "refresh-secret-value"),
            ("WEBEX_WEBHOOK_SECRET", "hook-secret-value"),
            ("API_TOKEN", "api-secret-value"),
            ("DATABASE_URL", "postgres://user:db-password@localhost/x"),
        ])
        .expect("valid");
        assert!(matches!(c.webex_auth, Some(Auth::OAuth(ref o)) if o.client_id == "client-1"));
        let debug = format!("{c:?}");
        for secret in [
            "very-secret-value",
            "refresh-secret-value",
            "hook-secret-value",
            "api-secret-value",
            "db-password",
        ] {
            assert!(!debug.contains(secret), "{secret} leaked into Debug");
        }
    }

    #[test]
    fn storage_url_selects_s3_with_the_standard_aws_settings() {
        assert!(matches!(
            config(&[]).expect("valid").storage,
            StorageConfig::Local
        ));
        let c = config(&[
            ("STORAGE_URL", "s3://audio-bucket/team/calls/"),
            ("AWS_ENDPOINT_URL", "http://127.0.0.1:9000"),
            ("AWS_REGION", "eu-west-1"),
            ("AWS_ACCESS_KEY_ID", "key-id"),
            ("AWS_SECRET_ACCESS_KEY", "s3-secret-value"),
            ("AWS_ALLOW_HTTP", "true"),
        ])
        .expect("valid");
        let StorageConfig::S3(s3) = &c.storage else {
            panic!("expected S3 storage, got {:?}", c.storage);
        };
        assert_eq!(s3.bucket, "audio-bucket");
        assert_eq!(s3.prefix.as_deref(), Some("team/calls"));
        assert_eq!(
            s3.endpoint.as_ref().map(Url::as_str),
            Some("http://127.0.0.1:9000/")
        );
        assert_eq!(s3.region.as_deref(), Some("eu-west-1"));
        assert_eq!(s3.access_key_id.as_deref(), Some("key-id"));
        assert!(s3.allow_http);
        assert!(!format!("{c:?}").contains("s3-secret-value"));

        let c = config(&[("STORAGE_URL", "s3://audio-bucket")]).expect("valid");
        assert!(matches!(&c.storage, StorageConfig::S3(s) if s.prefix.is_none() && !s.allow_http));
        let err = config(&[("STORAGE_URL", "s3://b-1"), ("AWS_ALLOW_HTTP", "yes")])
            .expect_err("not a bool");
        assert_eq!(err.name, "AWS_ALLOW_HTTP");
    }

    #[test]
    fn tls_needs_both_files_and_changes_the_redirect_scheme() {
        let c = config(&[("TLS_CERT", "c.pem"), ("TLS_KEY", "k.pem")]).expect("valid");
        assert!(c.tls.is_some());
        assert_eq!(c.redirect_uri.scheme(), "https");
    }
}
