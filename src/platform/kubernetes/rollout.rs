//! How far a Deployment's rollout has got, judged the way `kubectl rollout status` judges it:
//! the controller must have observed the newest generation first; a Progressing condition
//! with reason `ProgressDeadlineExceeded` is failure; then every replica updated, no old
//! replica left, and every updated replica available. Pure, no I/O.

use k8s_openapi::api::apps::v1::Deployment;

use super::shape::{self, name_of};
use crate::protocol::Progress;

/// A rollout's state at one observation.
#[derive(Clone, Debug, PartialEq)]
pub enum Rollout {
    /// Still going; the message is kubectl's.
    Waiting {
        progress: Progress,
        message: String,
    },
    Done {
        progress: Progress,
    },
    Failed {
        progress: Progress,
        message: String,
    },
}

/// Judge `d`'s rollout. `since_generation` is the generation the change made (the Deployment
/// must have reached at least that one, so a watch event from before it is not taken for its
/// outcome).
pub fn judge(d: &Deployment, since_generation: i64) -> Rollout {
    let name = name_of(&d.metadata);
    let status = d.status.clone().unwrap_or_default();
    let desired = shape::desired(d);
    let progress = Progress {
        ready: shape::ready(d),
        desired,
    };
    let count = |n: Option<i32>| u32::try_from(n.unwrap_or(0)).unwrap_or(0);
    let generation = d.metadata.generation.unwrap_or(0);
    let observed = status.observed_generation.unwrap_or(0);
    if generation < since_generation || generation > observed {
        return Rollout::Waiting {
            progress,
            message: "waiting for the deployment spec update to be observed".into(),
        };
    }
    if shape::deadline_exceeded(d) {
        return Rollout::Failed {
            progress,
            message: format!("deployment {name:?} exceeded its progress deadline"),
        };
    }
    let (updated, replicas, available) = (
        count(status.updated_replicas),
        count(status.replicas),
        count(status.available_replicas),
    );
    let message = if updated < desired {
        format!("{updated} out of {desired} new replicas have been updated")
    } else if replicas > updated {
        format!(
            "{} old replicas are pending termination",
            replicas - updated
        )
    } else if available < updated {
        format!("{available} of {updated} updated replicas are available")
    } else {
        return Rollout::Done { progress };
    };
    Rollout::Waiting { progress, message }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    fn deployment(generation: i64, status: serde_json::Value) -> Deployment {
        serde_json::from_value(serde_json::json!({
            "metadata": {"name": "cart", "generation": generation},
            "spec": {"replicas": 4, "selector": {}, "template": {}},
            "status": status,
        }))
        .unwrap()
    }

    fn message(r: Rollout) -> String {
        match r {
            Rollout::Waiting { message, .. } | Rollout::Failed { message, .. } => message,
            Rollout::Done { .. } => "done".into(),
        }
    }

    #[test]
    fn a_rollout_is_judged_in_kubectls_order() {
        let observed = |extra: serde_json::Value| {
            let mut status = serde_json::json!({"observedGeneration": 7});
            for (k, v) in extra.as_object().unwrap() {
                status[k] = v.clone();
            }
            deployment(7, status)
        };
        // Not observed yet: waiting, whatever the counts say.
        let unseen = deployment(
            7,
            serde_json::json!({"observedGeneration": 6,
            "replicas": 4, "updatedReplicas": 4, "availableReplicas": 4}),
        );
        assert!(message(judge(&unseen, 7)).contains("observed"));
        // A watch event from before the change is not its outcome.
        assert!(message(judge(&observed(serde_json::json!({})), 8)).contains("observed"));
        let deadline = observed(serde_json::json!({"conditions": [
            {"type": "Progressing", "status": "False", "reason": "ProgressDeadlineExceeded"}]}));
        assert!(matches!(judge(&deadline, 7), Rollout::Failed { .. }));
        let updating = observed(serde_json::json!({"updatedReplicas": 2, "replicas": 5}));
        assert_eq!(
            message(judge(&updating, 7)),
            "2 out of 4 new replicas have been updated"
        );
        let old_left = observed(serde_json::json!({"updatedReplicas": 4, "replicas": 5}));
        assert_eq!(
            message(judge(&old_left, 7)),
            "1 old replicas are pending termination"
        );
        let unavailable = observed(serde_json::json!({"updatedReplicas": 4, "replicas": 4,
            "availableReplicas": 3, "readyReplicas": 3}));
        assert_eq!(
            message(judge(&unavailable, 7)),
            "3 of 4 updated replicas are available"
        );
        let done = observed(serde_json::json!({"updatedReplicas": 4, "replicas": 4,
            "availableReplicas": 4, "readyReplicas": 4}));
        assert_eq!(
            judge(&done, 7),
            Rollout::Done {
                progress: Progress {
                    ready: 4,
                    desired: 4
                }
            }
        );
    }
}
