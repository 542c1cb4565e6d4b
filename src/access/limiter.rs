//! Failed key checks per client address: after [`FailedAuthLimiter::MAX_FAILURES`] within a
//! minute, that address is refused (429) until its minute is over. Only failures count, so a
//! busy client with a good key is never slowed; webhook signature failures never come here.

use std::collections::HashMap;
use std::net::IpAddr;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

/// An address over its limit, and for how long.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Throttled {
    pub retry_after: Duration,
}

#[derive(Clone)]
pub struct FailedAuthLimiter {
    window: Duration,
    entries: Arc<Mutex<HashMap<IpAddr, Window>>>,
}

#[derive(Clone, Copy)]
struct Window {
    started: Instant,
    failures: u32,
}

impl Default for FailedAuthLimiter {
    fn default() -> Self {
        Self::new(Duration::from_secs(60))
    }
}

impl std::fmt::Debug for FailedAuthLimiter {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("FailedAuthLimiter")
    }
}

impl FailedAuthLimiter {
    pub const MAX_FAILURES: u32 = 20;
    /// Past this many tracked addresses, expired windows are swept before adding one, so a
    /// flood from many addresses cannot grow the map without bound for longer than a window.
    const SWEEP_ABOVE: usize = 10_000;

    pub fn new(window: Duration) -> Self {
        Self {
            window,
            entries: Arc::default(),
        }
    }

    /// `Err` while the address is over its limit.
    pub fn check(&self, addr: IpAddr) -> Result<(), Throttled> {
        let now = Instant::now();
        let entries = self.entries.lock().unwrap_or_else(|p| p.into_inner());
        match entries.get(&addr) {
            Some(w) if w.failures >= Self::MAX_FAILURES => {
                let elapsed = now.duration_since(w.started);
                match self.window.checked_sub(elapsed) {
                    Some(left) if !left.is_zero() => Err(Throttled { retry_after: left }),
                    _ => Ok(()),
                }
            }
            _ => Ok(()),
        }
    }

    /// Counts one failed key check from `addr`.
    pub fn record_failure(&self, addr: IpAddr) {
        let now = Instant::now();
        let window = self.window;
        let mut entries = self.entries.lock().unwrap_or_else(|p| p.into_inner());
        if entries.len() >= Self::SWEEP_ABOVE {
            entries.retain(|_, w| now.duration_since(w.started) < window);
        }
        let entry = entries.entry(addr).or_insert(Window {
            started: now,
            failures: 0,
        });
        if now.duration_since(entry.started) >= window {
            *entry = Window {
                started: now,
                failures: 0,
            };
        }
        entry.failures = entry.failures.saturating_add(1);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn twenty_failures_close_the_address_until_its_window_ends() {
        let limiter = FailedAuthLimiter::new(Duration::from_millis(300));
        let attacker: IpAddr = "10.0.0.7".parse().unwrap();
        let bystander: IpAddr = "10.0.0.8".parse().unwrap();
        for _ in 0..FailedAuthLimiter::MAX_FAILURES - 1 {
            limiter.record_failure(attacker);
        }
        assert!(limiter.check(attacker).is_ok(), "19 failures are allowed");
        limiter.record_failure(attacker);
        let throttled = limiter.check(attacker).unwrap_err();
        assert!(throttled.retry_after <= Duration::from_millis(300));
        assert!(
            limiter.check(bystander).is_ok(),
            "only that address is closed"
        );
        std::thread::sleep(Duration::from_millis(350));
        assert!(
            limiter.check(attacker).is_ok(),
            "open again after the window"
        );
        limiter.record_failure(attacker);
        assert!(
            limiter.check(attacker).is_ok(),
            "a new window starts from zero"
        );
    }
}
