//! Limits that protect the platform and the gateway from runaway callers: a fixed-window cap on
//! actions per actor (429 with Retry-After), so a looping script cannot fire hundreds of scale
//! requests; replays of an idempotent request do not count.

use std::collections::HashMap;
use std::sync::Mutex;
use std::time::{Duration, Instant};

pub struct ActionLimiter {
    per_window: u32,
    window: Duration,
    inner: Mutex<HashMap<String, (Instant, u32)>>,
}

/// Entries kept before stale windows are swept.
const SWEEP_AT: usize = 10_000;

impl ActionLimiter {
    pub fn new(per_window: u32, window: Duration) -> Self {
        ActionLimiter {
            per_window: per_window.max(1),
            window,
            inner: Mutex::new(HashMap::new()),
        }
    }

    /// Count one action by `actor` at `now`; `Err(retry_after)` when over the limit.
    pub fn check(&self, actor: &str, now: Instant) -> Result<(), Duration> {
        let mut map = self.inner.lock().unwrap_or_else(|p| p.into_inner());
        if map.len() >= SWEEP_AT {
            map.retain(|_, (start, _)| now.duration_since(*start) < self.window);
        }
        let entry = map.entry(actor.to_string()).or_insert((now, 0));
        if now.duration_since(entry.0) >= self.window {
            *entry = (now, 0);
        }
        if entry.1 >= self.per_window {
            return Err(self.window.saturating_sub(now.duration_since(entry.0)));
        }
        entry.1 += 1;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn allows_up_to_the_limit_per_window_per_actor() {
        let limiter = ActionLimiter::new(2, Duration::from_secs(60));
        let t = Instant::now();
        assert!(limiter.check("li.wei", t).is_ok());
        assert!(limiter.check("li.wei", t).is_ok());
        let retry = limiter.check("li.wei", t + Duration::from_secs(10));
        assert_eq!(retry, Err(Duration::from_secs(50)));
        assert!(
            limiter.check("wang.fang", t).is_ok(),
            "limits are per actor"
        );
        assert!(limiter.check("li.wei", t + Duration::from_secs(61)).is_ok());
    }
}
