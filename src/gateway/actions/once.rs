//! Idempotency and the action limit: apply a change at most once per Idempotency-Key (repeats get
//! the first answer, another request under a used key is refused), and count new changes that
//! start platform actions against their actor's limit (replays do not count).
//!
//! The change runs on its own task that fills the key's cell, so a client that gives up (and
//! drops its request) does not cancel it half-way: its retry waits for, and gets, the same
//! answer. Answers that are not remembered ([`ActionError::is_remembered`]) let the key go, so
//! a retry after a platform blip runs again.

use std::future::Future;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

use super::{ActionError, Actor, IdempotencyKey, Outcome, Source};
use crate::gateway::Gateway;
use crate::gateway::idempotency::{Claim, IdempotencyStore};

/// What a change answers, as kept under its key.
pub type Answer = Result<Outcome, ActionError>;

/// Whether a change counts against its actor's action limit.
pub(super) enum Metering<'a> {
    /// It starts a platform action (scale, rollback, run start): counted, and its keys are kept
    /// apart from controls'.
    Counted(&'a Actor),
    /// A control (acknowledge, silence, approve, abort, resume): not counted.
    Free,
}

/// Apply `apply` for a request from `source`: at most once per key (`what` names the change and
/// its target, e.g. "scale shop-cart", and with the request fingerprints it), counted against
/// the actor's limit as `metering` says. A run's steps are applied as they come.
pub(super) async fn once<Fut>(
    gw: &Arc<Gateway>,
    source: Source,
    metering: Metering<'_>,
    what: &str,
    apply: Fut,
) -> Answer
where
    Fut: Future<Output = Answer> + Send + 'static,
{
    let key = match source {
        Source::Run(_) => return apply.await,
        Source::Request(key, _) => key,
    };
    // Actions and controls keep their keys apart: a flood of unmetered controls must not push
    // out the key of a scale whose retry would then apply twice.
    let (store, counted) = match metering {
        Metering::Counted(actor) => (gw.action_keys.clone(), Some(actor)),
        Metering::Free => (gw.control_keys.clone(), None),
    };
    // A request the store would refuse as busy is refused before it counts against the action
    // limit, so a client that waits as told (Retry-After) is not then rate-limited for it.
    if key.as_ref().is_some_and(|k| store.busy_for(&k.key)) {
        return Err(ActionError::Busy);
    }
    // Replays are answered from the store and do not count against the action limit.
    if let Some(actor) = counted
        && !key.as_ref().is_some_and(|k| store.knows(&k.key))
    {
        check_limit(gw, actor)?;
    }
    let Some(IdempotencyKey { key, request }) = key else {
        return match tokio::spawn(apply).await {
            Ok(answer) => answer,
            Err(err) => Err(internal(&err)),
        };
    };
    let cell = match store.claim(&key, &format!("{what} {request}")) {
        Claim::Mismatch => return Err(ActionError::KeyReused { key }),
        Claim::Busy => return Err(ActionError::Busy),
        Claim::Run(cell) => cell,
    };
    let ran = Arc::new(AtomicBool::new(false));
    // The task that computes the answer also decides whether it is kept, so a client that
    // drops its request does not leave the key running for ever; and if computing it panics,
    // the guard lets the key go as the task unwinds.
    let task = {
        let (cell, ran, store, key) = (cell.clone(), ran.clone(), store.clone(), key.clone());
        tokio::spawn(async move {
            let mut guard = ForgetUnlessSettled {
                store: store.clone(),
                key: key.clone(),
                settled: false,
            };
            let answer = cell
                .get_or_init(|| async {
                    ran.store(true, Ordering::Relaxed);
                    apply.await
                })
                .await
                .clone();
            if ran.load(Ordering::Relaxed) {
                if answer.as_ref().err().is_none_or(ActionError::is_remembered) {
                    store.keep(&key);
                } else {
                    store.forget(&key);
                }
            }
            guard.settled = true;
            answer
        })
    };
    let answer = match task.await {
        Ok(answer) => answer,
        // The task's guard has let the key go.
        Err(err) => Err(internal(&err)),
    };
    if !ran.load(Ordering::Relaxed) {
        gw.stats.idempotent_replay();
    }
    answer
}

/// Count one new action by `actor`; refused when it has started too many this minute.
pub(super) fn check_limit(gw: &Gateway, actor: &Actor) -> Result<(), ActionError> {
    gw.limiter
        .check(actor.name(), std::time::Instant::now())
        .map_err(|retry| ActionError::RateLimited {
            actor: actor.name().to_string(),
            per_minute: gw.config.actions_per_minute,
            retry_after_secs: retry.as_secs().max(1),
        })
}

fn internal(err: &tokio::task::JoinError) -> ActionError {
    tracing::error!(%err, "action task failed");
    ActionError::Internal
}

/// Lets a claimed key go unless the task that claimed it settled it (kept or forgot it): a
/// panic while applying must not leave the key claimed for ever.
struct ForgetUnlessSettled {
    store: Arc<IdempotencyStore<Answer>>,
    key: String,
    settled: bool,
}

impl Drop for ForgetUnlessSettled {
    fn drop(&mut self) {
        if !self.settled {
            self.store.forget(&self.key);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn a_panic_while_applying_lets_the_key_go() {
        let store = Arc::new(IdempotencyStore::<Answer>::new(4));
        assert!(matches!(store.claim("k", "scale a 3"), Claim::Run(_)));
        let (held, key) = (store.clone(), "k".to_string());
        let task = tokio::spawn(async move {
            let _guard = ForgetUnlessSettled {
                store: held,
                key,
                settled: false,
            };
            panic!("applying the action panicked");
        });
        assert!(task.await.is_err());
        assert!(!store.knows("k"), "the key is free for a retry");
        // A settled guard leaves the key to whoever settled it.
        assert!(matches!(store.claim("k", "scale a 3"), Claim::Run(_)));
        store.keep("k");
        drop(ForgetUnlessSettled {
            store: store.clone(),
            key: "k".into(),
            settled: true,
        });
        assert!(store.knows("k"));
    }
}
