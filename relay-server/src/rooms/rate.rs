//! A token bucket: `burst` tokens, refilled at `rate_per_s`, one taken per message.
//!
//! Invariant: the bucket never holds more than `burst` tokens, so a connection that was quiet
//! for an hour still gets only `burst` messages at once.

use std::time::Instant;

/// Per-connection message budget.
#[derive(Debug, Clone)]
pub struct TokenBucket {
    rate_per_s: f64,
    burst: f64,
    tokens: f64,
    last: Instant,
}

impl TokenBucket {
    /// A full bucket.
    pub fn new(rate_per_s: f64, burst: f64, now: Instant) -> Self {
        Self {
            rate_per_s,
            burst,
            tokens: burst,
            last: now,
        }
    }

    /// Takes one token if there is one at `now`.
    pub fn try_take(&mut self, now: Instant) -> bool {
        let elapsed = now.saturating_duration_since(self.last).as_secs_f64();
        self.last = now;
        self.tokens = (self.tokens + elapsed * self.rate_per_s).min(self.burst);
        if self.tokens >= 1.0 {
            self.tokens -= 1.0;
            true
        } else {
            false
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;

    #[test]
    fn burst_then_refill_at_the_rate() {
        let t0 = Instant::now();
        let mut bucket = TokenBucket::new(10.0, 5.0, t0);
        assert_eq!((0..8).filter(|_| bucket.try_take(t0)).count(), 5);
        // 10 per second: 0.25 s later, two more tokens (2.5, rounded down by whole takes).
        let t1 = t0 + Duration::from_millis(250);
        assert_eq!((0..8).filter(|_| bucket.try_take(t1)).count(), 2);
        // A long pause refills only up to the burst size.
        let t2 = t1 + Duration::from_secs(3600);
        assert_eq!((0..8).filter(|_| bucket.try_take(t2)).count(), 5);
    }
}
