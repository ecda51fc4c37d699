//! Idempotency keys for actions: the same key with the same request returns the first result and
//! applies once, even when both requests arrive at the same moment; the same key with another
//! request is refused.
//!
//! A key is claimed before its request runs but only counts against the store's capacity once its
//! answer is kept ([`IdempotencyStore::keep`]): answers that are not kept (server failures, 404s
//! for unknown resources) never evict anyone's key. Keys still running are bounded separately, so
//! memory stays bounded either way.

use std::collections::{HashMap, VecDeque};
use std::hash::BuildHasher;
use std::sync::{Arc, Mutex};

use tokio::sync::OnceCell;

/// `R` is the answer kept for replay (the actions layer keeps its typed outcome).
struct Entry<R> {
    /// A keyed hash of the request: bodies are not kept, so memory per key stays small.
    fingerprint: u64,
    result: Arc<OnceCell<R>>,
    /// The answer is kept and the key holds a place in `order`.
    kept: bool,
}

/// What the store says about a request.
pub enum Claim<R> {
    /// Run the request through this cell: the first caller computes, the others wait and get the
    /// same answer.
    Run(Arc<OnceCell<R>>),
    /// The key was used for a different request.
    Mismatch,
    /// As many keyed requests as the store holds are running already; try again shortly.
    Busy,
}

/// Remembers the answers of the last `capacity` keys, and at most `capacity` keys still running.
pub struct IdempotencyStore<R> {
    inner: Mutex<Inner<R>>,
    capacity: usize,
    /// Randomly keyed per process, so fingerprints cannot be made to collide on purpose.
    hasher: std::collections::hash_map::RandomState,
}

struct Inner<R> {
    entries: HashMap<String, Entry<R>>,
    /// Keys whose answer is kept, oldest first.
    order: VecDeque<String>,
}

impl<R> Inner<R> {
    fn running(&self) -> usize {
        self.entries.len() - self.order.len()
    }
}

impl<R> IdempotencyStore<R> {
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

    /// Forget `key`: its answer is not worth keeping (a server-side failure worth retrying, or
    /// a 404 that applied nothing).
    pub fn forget(&self, key: &str) {
        let mut inner = self.inner.lock().unwrap_or_else(|p| p.into_inner());
        if let Some(entry) = inner.entries.remove(key)
            && entry.kept
        {
            inner.order.retain(|k| k != key);
        }
    }

    /// Keep `key`'s answer for replay, forgetting the oldest kept keys beyond capacity (the task
    /// that ran the request calls this). Keeping a key twice changes nothing.
    pub fn keep(&self, key: &str) {
        let mut inner = self.inner.lock().unwrap_or_else(|p| p.into_inner());
        match inner.entries.get_mut(key) {
            Some(entry) if !entry.kept => entry.kept = true,
            _ => return,
        }
        inner.order.push_back(key.to_string());
        while inner.order.len() > self.capacity {
            if let Some(oldest) = inner.order.pop_front() {
                inner.entries.remove(&oldest);
            }
        }
    }

    /// Whether `key` has been seen (its request ran or is running).
    pub fn knows(&self, key: &str) -> bool {
        let inner = self.inner.lock().unwrap_or_else(|p| p.into_inner());
        inner.entries.contains_key(key)
    }

    /// Whether claiming `key` now would be refused as busy: it is new and as many keys are
    /// running as the store holds. Checked before a request counts against the action limit,
    /// so a refusal costs the client nothing.
    pub fn busy_for(&self, key: &str) -> bool {
        let inner = self.inner.lock().unwrap_or_else(|p| p.into_inner());
        !inner.entries.contains_key(key) && inner.running() >= self.capacity
    }

    /// `fingerprint` identifies the request (route and canonical body).
    pub fn claim(&self, key: &str, fingerprint: &str) -> Claim<R> {
        let mut inner = self.inner.lock().unwrap_or_else(|p| p.into_inner());
        let fingerprint = self.hasher.hash_one(fingerprint);
        if let Some(entry) = inner.entries.get(key) {
            return if entry.fingerprint == fingerprint {
                Claim::Run(entry.result.clone())
            } else {
                Claim::Mismatch
            };
        }
        if inner.running() >= self.capacity {
            return Claim::Busy;
        }
        let result = Arc::new(OnceCell::new());
        inner.entries.insert(
            key.to_string(),
            Entry {
                fingerprint,
                result: result.clone(),
                kept: false,
            },
        );
        Claim::Run(result)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn busy_is_known_before_claiming_and_only_for_new_keys() {
        let store = IdempotencyStore::<()>::new(1);
        assert!(!store.busy_for("a"));
        assert!(matches!(store.claim("a", "x"), Claim::Run(_)));
        assert!(store.busy_for("b"), "one key running fills a store of one");
        assert!(
            !store.busy_for("a"),
            "a retry of the running key is not refused"
        );
        assert!(matches!(store.claim("b", "x"), Claim::Busy));
        store.keep("a");
        assert!(!store.busy_for("b"));
    }

    #[test]
    fn same_key_same_request_shares_one_cell_and_other_request_mismatches() {
        let store = IdempotencyStore::<()>::new(2);
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

    fn claim_and_keep(store: &IdempotencyStore<()>, key: &str, fingerprint: &str) {
        assert!(matches!(store.claim(key, fingerprint), Claim::Run(_)));
        store.keep(key);
    }

    #[test]
    fn oldest_kept_keys_are_forgotten_beyond_capacity() {
        let store = IdempotencyStore::<()>::new(2);
        claim_and_keep(&store, "a", "x");
        claim_and_keep(&store, "b", "x");
        claim_and_keep(&store, "c", "x");
        // "a" was evicted, so another request under it is accepted as new.
        assert!(matches!(store.claim("a", "y"), Claim::Run(_)));
        assert!(matches!(store.claim("c", "y"), Claim::Mismatch));
    }

    #[test]
    fn keys_that_are_claimed_then_forgotten_evict_nothing() {
        let store = IdempotencyStore::<()>::new(2);
        claim_and_keep(&store, "a", "x");
        for n in 0..10 {
            let key = format!("missing-{n}");
            assert!(matches!(store.claim(&key, "x"), Claim::Run(_)));
            store.forget(&key);
        }
        assert!(matches!(store.claim("a", "y"), Claim::Mismatch));
    }

    #[test]
    fn running_keys_are_bounded_too() {
        let store = IdempotencyStore::<()>::new(2);
        assert!(matches!(store.claim("a", "x"), Claim::Run(_)));
        assert!(matches!(store.claim("b", "x"), Claim::Run(_)));
        assert!(matches!(store.claim("c", "x"), Claim::Busy));
        // A running key's own retry is still answered.
        assert!(matches!(store.claim("a", "x"), Claim::Run(_)));
        store.keep("a");
        assert!(matches!(store.claim("c", "x"), Claim::Run(_)));
    }
}
