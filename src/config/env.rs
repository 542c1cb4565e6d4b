//! Reading one variable: trimmed, empty as unset, and a bad value named in the error.

use std::fmt::Display;
use std::ops::RangeInclusive;
use std::str::FromStr;
use std::time::Duration;

use url::Url;

use super::ConfigError;

pub(super) fn invalid(name: &'static str, problem: &str) -> ConfigError {
    ConfigError {
        name,
        problem: problem.to_string(),
    }
}

/// Reads variables; empty values count as unset (a common `.env` habit: `API_TOKEN=`).
pub(super) struct Env<'a>(pub(super) &'a dyn Fn(&str) -> Option<String>);

impl Env<'_> {
    pub(super) fn string(&self, name: &str) -> Option<String> {
        (self.0)(name)
            .map(|v| v.trim().to_string())
            .filter(|v| !v.is_empty())
    }

    pub(super) fn parse<T: FromStr>(
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

    /// A whole number inside `range`.
    pub(super) fn number_in<T: FromStr + PartialOrd + Display>(
        &self,
        name: &'static str,
        range: RangeInclusive<T>,
    ) -> Result<Option<T>, ConfigError> {
        let expected = format!("a whole number from {} to {}", range.start(), range.end());
        match self.parse(name, &expected)? {
            Some(n) if !range.contains(&n) => Err(invalid(name, &format!("expected {expected}"))),
            n => Ok(n),
        }
    }

    /// `true` or `false`, in any case.
    pub(super) fn flag(&self, name: &'static str) -> Result<Option<bool>, ConfigError> {
        match self.string(name).map(|v| v.to_ascii_lowercase()).as_deref() {
            None => Ok(None),
            Some("true") => Ok(Some(true)),
            Some("false") => Ok(Some(false)),
            Some(_) => Err(invalid(name, "expected true or false")),
        }
    }

    /// A duration like `30s` or `15m`, at least a second; `expected` gives examples.
    pub(super) fn duration(
        &self,
        name: &'static str,
        expected: &str,
    ) -> Result<Option<Duration>, ConfigError> {
        self.string(name)
            .map(|raw| match humantime::parse_duration(&raw) {
                Ok(d) if d >= Duration::from_secs(1) => Ok(d),
                _ => Err(invalid(
                    name,
                    &format!("expected a duration like {expected} (at least 1s)"),
                )),
            })
            .transpose()
    }

    /// An http(s) URL. A bad one is described, never repeated: a webhook URL (Slack, Teams) is
    /// its own secret, and others may carry a password.
    pub(super) fn url(&self, name: &'static str) -> Result<Option<Url>, ConfigError> {
        self.string(name)
            .map(|raw| match Url::parse(&raw) {
                Ok(url) if matches!(url.scheme(), "http" | "https") => Ok(url),
                Ok(url) => Err(invalid(
                    name,
                    &format!(
                        "expected an http:// or https:// URL, got a {}: URL",
                        url.scheme()
                    ),
                )),
                Err(e) => Err(invalid(
                    name,
                    &format!(
                        "expected an http:// or https:// URL, got one that does not parse ({e})"
                    ),
                )),
            })
            .transpose()
    }
}
