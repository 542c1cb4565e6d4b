//! One typed configuration, read once at start from the environment (and `.env`).
//!
//! Every variable of CONTRACT.md is here with its default. A bad value stops the program with a
//! message naming the variable and what it expects; secrets never show in `Debug`.

mod ai;
mod alerts;
mod env;
mod http;
mod storage;
mod webex;

use std::net::SocketAddr;
use std::path::PathBuf;
use std::time::Duration;

use call_analysis::redact::RedactKinds;
use secrecy::SecretString;
use url::Url;

pub use self::ai::{DEFAULT_SUMMARY_MODEL, SummaryConfig};
use self::env::{Env, invalid};
pub use self::http::{HttpLimits, LogFormat, TlsFiles};
pub use self::storage::StorageConfig;
use crate::ai::SttConfig;
use crate::reconciler::ServiceTypes;
use crate::webex::Auth;

#[derive(Debug, thiserror::Error, PartialEq, Eq)]
#[error("{name}: {problem}")]
pub struct ConfigError {
    pub name: &'static str,
    pub problem: String,
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

        let database_url = storage::database_url(&env)?;
        let amqp_url = env.string("AMQP_URL");
        if let Some(url) = &amqp_url
            && !(url.starts_with("amqp://") || url.starts_with("amqps://"))
        {
            return Err(invalid("AMQP_URL", "expected amqp://… or amqps://…"));
        }
        let listen_addr = http::listen_addr(&env)?;
        let tls = http::tls_files(&env)?;
        let webex_api_url = webex::api_url(&env)?;
        let webex_auth = webex::auth(&env)?;
        let worker_concurrency = env.number_in("WORKER_CONCURRENCY", 1..=256)?.unwrap_or(8);
        let reconcile_service_types = env
            .parse("RECONCILE_SERVICE_TYPES", "calling or all")?
            .unwrap_or_default();
        let backfill_interval = webex::backfill_interval(&env)?;
        let summary = ai::summary(&env)?;
        let stt = ai::stt(&env)?;
        let summary_language =
            ai::language_code(&env, "SUMMARY_LANGUAGE")?.unwrap_or_else(|| "es".into());
        let translate_to = ai::language_code(&env, "TRANSLATE_TO")?;
        let redact = env
            .parse(
                "REDACT",
                "all, none or a comma-separated list of card,cvv,expiry,iban,national_id,email,phone",
            )?
            .unwrap_or_default();
        let storage = storage::storage(&env)?;
        let redirect_uri = webex::redirect_uri(&env, listen_addr, tls.is_some())?;
        let log_format = http::log_format(&env)?;
        let webex_scopes = webex::scopes(&env)?;
        let http_limits = http::limits(&env)?;
        let alerts = alerts::alerts(&env)?;
        let retention = storage::retention(&env)?;

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

    /// URLs can carry a password, and a webhook URL is its own secret: a refusal names the
    /// variable and the problem, never the value.
    #[test]
    fn a_refused_url_is_not_repeated() {
        for (name, value) in [
            ("ALERT_WEBHOOK_URL", "ftp://hooks.example.com/SECRET"),
            ("SUMMARY_API_URL", "https//u:SECRET@llm.example.com"),
            ("DATABASE_URL", "mysql://u:SECRET@db"),
            ("AMQP_URL", "http://u:SECRET@broker"),
        ] {
            let err = config(&[(name, value)]).expect_err(name).to_string();
            assert!(err.starts_with(name), "{err}");
            assert!(!err.contains("SECRET"), "{err}");
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
        // A private address literal or localhost is refused at start unless allowed.
        let secret = ("ALERT_WEBHOOK_SECRET", "whsec_c2VjcmV0");
        for local in [
            "http://127.0.0.1:9000/hook",
            "http://localhost/hook",
            "http://[::1]/hook",
            "http://198.18.0.1/hook",
        ] {
            let refused = config(&[("ALERT_WEBHOOK_URL", local), secret]).expect_err(local);
            assert_eq!(refused.name, "ALERT_WEBHOOK_URL", "{local}");
            let allowed = [
                ("ALERT_WEBHOOK_URL", local),
                secret,
                ("ALERT_ALLOW_PRIVATE", "true"),
            ];
            assert!(config(&allowed).is_ok(), "{local}");
        }
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
