//! The action book: the latest known status of every recent action, fed from the `actions`
//! topic, read by GET /v1/actions/{id}.

use std::collections::{HashMap, VecDeque};
use std::sync::Mutex;

use crate::protocol::ActionStatus;

pub struct ActionBook {
    inner: Mutex<(HashMap<String, ActionStatus>, VecDeque<String>)>,
    capacity: usize,
}

impl ActionBook {
    pub fn new(capacity: usize) -> Self {
        ActionBook {
            inner: Mutex::new((HashMap::new(), VecDeque::new())),
            capacity: capacity.max(1),
        }
    }

    /// Record `status`, unless the book already holds a final state for that action (a late
    /// "accepted" must not undo "succeeded").
    pub fn record(&self, status: ActionStatus) {
        let mut guard = self.inner.lock().unwrap_or_else(|p| p.into_inner());
        let (by_id, order) = &mut *guard;
        if let Some(known) = by_id.get(&status.id) {
            if known.state.is_final() && !status.state.is_final() {
                return;
            }
        } else {
            order.push_back(status.id.clone());
            if order.len() > self.capacity
                && let Some(oldest) = order.pop_front()
            {
                by_id.remove(&oldest);
            }
        }
        by_id.insert(status.id.clone(), status);
    }

    pub fn get(&self, id: &str) -> Option<ActionStatus> {
        let guard = self.inner.lock().unwrap_or_else(|p| p.into_inner());
        guard.0.get(id).cloned()
    }
}
