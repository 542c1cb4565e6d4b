//! The one retry policy: exponential backoff on `backon`, capped, with optional jitter, and a
//! server's `Retry-After` honoured up to its own cap. The Webex client retries with it in
//! process, the pipeline picks its re-queue delays from it, AMQP reconnects pace themselves by it.

use std::time::Duration;

use backon::{BackoffBuilder, ExponentialBuilder};

/// When and how often to try again.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RetryPolicy {
    /// Total attempts, the first one included; `u32::MAX`: no limit.
    pub max_attempts: u32,
    /// Delay before the first retry; doubles per further retry.
    pub base_delay: Duration,
    /// Upper bound of one backoff delay (before jitter).
    pub max_delay: Duration,
    /// Upper bound of a server's `Retry-After` wait.
    pub max_retry_after: Duration,
    /// Add up to as much again at random, so many clients do not retry in step.
    pub jitter: bool,
}

impl Default for RetryPolicy {
    /// Calls to an HTTP API (Webex): 5 attempts, 0.5 s doubling to 30 s, `Retry-After` up to
    /// 60 s (webex-api.md).
    fn default() -> Self {
        Self {
            max_attempts: 5,
            base_delay: Duration::from_millis(500),
            max_delay: Duration::from_secs(30),
            max_retry_after: Duration::from_secs(60),
            jitter: true,
        }
    }
}

impl RetryPolicy {
    /// The backoff for `backon`'s `.retry(..)`: as many retries as `max_attempts` leaves.
    pub fn backoff(&self) -> ExponentialBuilder {
        let builder = ExponentialBuilder::new()
            .with_min_delay(self.base_delay)
            .with_max_delay(self.max_delay.max(self.base_delay));
        let builder = match self.max_attempts {
            u32::MAX => builder.without_max_times(),
            n => builder.with_max_times(n.saturating_sub(1) as usize),
        };
        if self.jitter {
            builder.with_jitter()
        } else {
            builder
        }
    }

    /// The delay before retry number `retry` (1 for the first): what the same backoff would
    /// wait at that point, for retries that are scheduled elsewhere (a queue's delayed
    /// redelivery). Jitter applies when enabled; the attempt limit does not.
    pub fn delay(&self, retry: u32) -> Duration {
        let unlimited = Self {
            max_attempts: u32::MAX,
            ..self.clone()
        };
        let nth = retry.saturating_sub(1).min(64) as usize;
        unlimited
            .backoff()
            .build()
            .nth(nth)
            .unwrap_or(self.max_delay)
    }

    /// For `backon`'s `.adjust(..)`: the server's `Retry-After` (capped) instead of the
    /// backoff's delay, unless the backoff says to stop. Never less than `base_delay`: a
    /// `Retry-After: 0` (or a date already past) would otherwise retry at once, every time.
    pub fn honour_retry_after(
        &self,
        retry_after: Option<Duration>,
        backoff: Option<Duration>,
    ) -> Option<Duration> {
        let backoff = backoff?;
        Some(retry_after.map_or(backoff, |wait| {
            wait.min(self.max_retry_after).max(self.base_delay)
        }))
    }
}

/// A server's `Retry-After`: delay-seconds or an HTTP date (a date already past is zero).
pub fn parse_retry_after(headers: &reqwest::header::HeaderMap) -> Option<Duration> {
    let value = headers
        .get(reqwest::header::RETRY_AFTER)?
        .to_str()
        .ok()?
        .trim();
    if let Ok(secs) = value.parse::<u64>() {
        return Some(Duration::from_secs(secs));
    }
    let when = chrono::DateTime::parse_from_rfc2822(value).ok()?;
    let delta = when.with_timezone(&chrono::Utc) - chrono::Utc::now();
    Some(delta.to_std().unwrap_or(Duration::ZERO))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn policy(jitter: bool) -> RetryPolicy {
        RetryPolicy {
            max_attempts: 4,
            base_delay: Duration::from_millis(100),
            max_delay: Duration::from_millis(1000),
            max_retry_after: Duration::from_secs(2),
            jitter,
        }
    }

    #[test]
    fn delays_double_up_to_the_cap_and_stop_at_the_attempt_limit() {
        let delays: Vec<u128> = policy(false)
            .backoff()
            .build()
            .map(|d| d.as_millis())
            .collect();
        assert_eq!(delays, [100, 200, 400], "three retries after the first try");
        let p = policy(false);
        let at = |n| p.delay(n).as_millis();
        assert_eq!([at(1), at(2), at(4), at(30)], [100, 200, 800, 1000]);
    }

    #[test]
    fn jitter_adds_at_most_as_much_again() {
        let p = policy(true);
        for _ in 0..50 {
            let d = p.delay(3);
            assert!(d >= Duration::from_millis(400) && d <= Duration::from_millis(800));
        }
    }

    #[test]
    fn retry_after_formats() {
        use reqwest::header::RETRY_AFTER;
        let mut h = reqwest::header::HeaderMap::new();
        h.insert(RETRY_AFTER, " 7 ".parse().unwrap());
        assert_eq!(parse_retry_after(&h), Some(Duration::from_secs(7)));
        h.insert(
            RETRY_AFTER,
            "Wed, 21 Oct 2015 07:28:00 GMT".parse().unwrap(),
        );
        assert_eq!(parse_retry_after(&h), Some(Duration::ZERO));
        h.insert(RETRY_AFTER, "soon".parse().unwrap());
        assert_eq!(parse_retry_after(&h), None);
    }

    #[test]
    fn retry_after_replaces_the_backoff_up_to_its_cap() {
        let p = policy(false);
        let ms = Duration::from_millis;
        assert_eq!(
            p.honour_retry_after(Some(ms(1500)), Some(ms(100))),
            Some(ms(1500))
        );
        assert_eq!(
            p.honour_retry_after(Some(ms(9000)), Some(ms(100))),
            Some(ms(2000))
        );
        assert_eq!(p.honour_retry_after(None, Some(ms(100))), Some(ms(100)));
        assert_eq!(
            p.honour_retry_after(Some(ms(0)), Some(ms(400))),
            Some(ms(100)),
            "Retry-After: 0 waits the base delay, not nothing"
        );
        assert_eq!(
            p.honour_retry_after(Some(ms(1)), None),
            None,
            "out of attempts"
        );
    }
}
