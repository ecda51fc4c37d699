//! Idempotency keys for actions: the same key with the same request returns the first result and
//! applies once, even when both requests arrive at the same moment; the same key with another
//! request is refused.

use std::collections::{HashMap, VecDeque};
use std::hash::BuildHasher;
use std::sync::{Arc, Mutex};

use axum::http::StatusCode;
use tokio::sync::OnceCell;

/// A response kept for replay.
#[derive(Clone, Debug, PartialEq)]
pub struct Recorded {
    pub status: StatusCode,
    pub body: serde_json::Value,
}

struct Entry {
    /// A keyed hash of the request: bodies are not kept, so memory per key stays small.
    fingerprint: u64,
    result: Arc<OnceCell<Recorded>>,
}

/// What the store says about a request.
pub enum Claim {
    /// Run the request through this cell: the first caller computes, the others wait and get the
    /// same answer.
    Run(Arc<OnceCell<Recorded>>),
    /// The key was used for a different request.
    Mismatch,
}

/// Remembers the last `capacity` keys.
pub struct IdempotencyStore {
    inner: Mutex<Inner>,
    capacity: usize,
    /// Randomly keyed per process, so fingerprints cannot be made to collide on purpose.
    hasher: std::collections::hash_map::RandomState,
}

struct Inner {
    entries: HashMap<String, Entry>,
    order: VecDeque<String>,
}

impl IdempotencyStore {
    pub fn new(capacity: usize) -> Self {
        IdempotencyStore {
            inner: Mutex::new(Inner {
                entries: HashMap::new(),
                order: VecDeque::new(),
            }),
            capacity: capacity.max(1),
            hasher: std::collections::hash_map::RandomState::new(),
        }
    }

    /// Forget `key` (its answer was a server-side failure worth retrying).
    pub fn forget(&self, key: &str) {
        let mut inner = self.inner.lock().unwrap_or_else(|p| p.into_inner());
        if inner.entries.remove(key).is_some() {
            inner.order.retain(|k| k != key);
        }
    }

    /// Whether `key` has been seen (its request ran or is running).
    pub fn knows(&self, key: &str) -> bool {
        let inner = self.inner.lock().unwrap_or_else(|p| p.into_inner());
        inner.entries.contains_key(key)
    }

    /// `fingerprint` identifies the request (route and canonical body).
    pub fn claim(&self, key: &str, fingerprint: &str) -> Claim {
        let mut inner = self.inner.lock().unwrap_or_else(|p| p.into_inner());
        let fingerprint = self.hasher.hash_one(fingerprint);
        if let Some(entry) = inner.entries.get(key) {
            return if entry.fingerprint == fingerprint {
                Claim::Run(entry.result.clone())
            } else {
                Claim::Mismatch
            };
        }
        if inner.order.len() >= self.capacity
            && let Some(oldest) = inner.order.pop_front()
        {
            inner.entries.remove(&oldest);
        }
        let result = Arc::new(OnceCell::new());
        inner.entries.insert(
            key.to_string(),
            Entry {
                fingerprint,
                result: result.clone(),
            },
        );
        inner.order.push_back(key.to_string());
        Claim::Run(result)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn same_key_same_request_shares_one_cell_and_other_request_mismatches() {
        let store = IdempotencyStore::new(2);
        let Claim::Run(a) = store.claim("k", "POST /scale {1}") else {
            panic!("first claim must run");
        };
        let Claim::Run(b) = store.claim("k", "POST /scale {1}") else {
            panic!("same request must run through the same cell");
        };
        assert!(Arc::ptr_eq(&a, &b));
        assert!(matches!(
            store.claim("k", "POST /scale {2}"),
            Claim::Mismatch
        ));
    }

    #[test]
    fn oldest_keys_are_forgotten_beyond_capacity() {
        let store = IdempotencyStore::new(2);
        let _ = store.claim("a", "x");
        let _ = store.claim("b", "x");
        let _ = store.claim("c", "x");
        // "a" was evicted, so another request under it is accepted as new.
        assert!(matches!(store.claim("a", "y"), Claim::Run(_)));
        assert!(matches!(store.claim("c", "y"), Claim::Mismatch));
    }
}
