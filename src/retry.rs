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
    /// backoff's delay, unless the backoff says to stop.
    pub fn honour_retry_after(
        &self,
        retry_after: Option<Duration>,
        backoff: Option<Duration>,
    ) -> Option<Duration> {
        let backoff = backoff?;
        Some(retry_after.map_or(backoff, |wait| wait.min(self.max_retry_after)))
    }
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
            p.honour_retry_after(Some(ms(1)), None),
            None,
            "out of attempts"
        );
    }
}
