//! Limits that protect the platform and the gateway from runaway callers: a fixed-window cap on
//! actions per actor (429 with Retry-After), so a looping script cannot fire hundreds of scale
//! requests; replays of an idempotent request do not count.

use std::collections::HashMap;
use std::sync::Mutex;
use std::time::{Duration, Instant};

pub struct ActionLimiter {
    per_window: u32,
    window: Duration,
    inner: Mutex<Inner>,
}

struct Inner {
    by_actor: HashMap<String, (Instant, u32)>,
    last_sweep: Option<Instant>,
}

/// Actors tracked at once. Beyond it (only reachable by inventing names, until tokens arrive),
/// new actors are refused until old windows expire, so memory and work per call stay bounded.
const MAX_ACTORS: usize = 10_000;

impl ActionLimiter {
    pub fn new(per_window: u32, window: Duration) -> Self {
        ActionLimiter {
            per_window: per_window.max(1),
            window,
            inner: Mutex::new(Inner {
                by_actor: HashMap::new(),
                last_sweep: None,
            }),
        }
    }

    /// How long `key` must wait before it may be counted again, when it is at the limit now;
    /// counts nothing.
    pub fn blocked(&self, key: &str, now: Instant) -> Option<Duration> {
        let inner = self.inner.lock().unwrap_or_else(|p| p.into_inner());
        let (start, count) = inner.by_actor.get(key)?;
        let elapsed = now.duration_since(*start);
        (elapsed < self.window && *count >= self.per_window)
            .then(|| self.window.saturating_sub(elapsed))
    }

    /// Count one action by `actor` at `now`; `Err(retry_after)` when over the limit.
    pub fn check(&self, actor: &str, now: Instant) -> Result<(), Duration> {
        let mut inner = self.inner.lock().unwrap_or_else(|p| p.into_inner());
        let Inner {
            by_actor,
            last_sweep,
        } = &mut *inner;
        if !by_actor.contains_key(actor) && by_actor.len() >= MAX_ACTORS {
            // Sweep expired windows at most ten times per window: O(n) work stays rare.
            let due = last_sweep.is_none_or(|t| now.duration_since(t) >= self.window / 10);
            if due {
                by_actor.retain(|_, (start, _)| now.duration_since(*start) < self.window);
                *last_sweep = Some(now);
            }
            if by_actor.len() >= MAX_ACTORS {
                return Err(self.window / 10);
            }
        }
        let entry = by_actor.entry(actor.to_string()).or_insert((now, 0));
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

    #[test]
    fn invented_names_cannot_grow_the_table_beyond_its_bound() {
        let limiter = ActionLimiter::new(5, Duration::from_secs(60));
        let t = Instant::now();
        for i in 0..MAX_ACTORS {
            assert!(limiter.check(&format!("bot-{i}"), t).is_ok());
        }
        assert!(limiter.check("one-more", t).is_err());
        assert!(limiter.check("bot-1", t).is_ok(), "known actors still work");
        // Once the windows expire, room is made again.
        assert!(
            limiter
                .check("one-more", t + Duration::from_secs(61))
                .is_ok()
        );
    }
}
