//! Release history per app, newest first, with the hidden traits that decide how each release
//! behaves once its pods serve traffic (a bad release raises errors, a leaky one eats memory).

use chrono::{DateTime, Duration, Utc};

use super::catalog::{AppSpec, artifact};
use crate::protocol::{Release, ReleaseStatus};

/// Releases kept per app; older ones are forgotten.
pub const HISTORY_CAP: usize = 20;

/// A defect shipped in a release, which decides its error logs.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Defect {
    None,
    /// A null dereference on a hot path: a share of requests fail with 500.
    NullDeref,
    /// Sessions are cached and never freed: memory grows until OOM.
    SessionLeak,
    /// The process exits during start-up (a config key it needs is missing): its pods never
    /// pass their readiness probe and crash-loop.
    CrashOnStart,
}

/// How a release behaves when it serves traffic.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct ReleaseTraits {
    /// Extra error ratio of requests served by this release.
    pub error_ratio: f64,
    /// Multiplier on service time.
    pub latency_factor: f64,
    /// Memory each pod leaks per minute under normal load, MiB.
    pub leak_mb_per_min: f64,
    pub defect: Defect,
}

impl ReleaseTraits {
    pub const GOOD: ReleaseTraits = ReleaseTraits {
        error_ratio: 0.0,
        latency_factor: 1.0,
        leak_mb_per_min: 0.0,
        defect: Defect::None,
    };

    /// A release whose pods never start (the seeded history's rolled-back release).
    pub const CRASH_ON_START: ReleaseTraits = ReleaseTraits {
        defect: Defect::CrashOnStart,
        ..ReleaseTraits::GOOD
    };

    /// Whether the release's pods can become ready at all.
    pub fn starts(&self) -> bool {
        self.defect != Defect::CrashOnStart
    }
}

#[derive(Clone, Debug)]
pub struct ReleaseRecord {
    pub release: Release,
    pub traits: ReleaseTraits,
}

/// One app's releases, newest first; exactly one is active.
#[derive(Clone, Debug)]
pub struct ReleaseHistory {
    records: Vec<ReleaseRecord>,
    next_no: u32,
}

const PAST_CAUSES: &[&str] = &[
    "修复优惠券叠加计算错误",
    "feat: 支持微信支付分先用后付",
    "chore: bump node to 20.11 and refresh base image",
    "优化商品详情页缓存命中率",
    "fix: retry Alipay notify verification on 5xx",
    "feat: 会员等级展示",
    "perf: batch Redis MGET for cart items",
];

impl ReleaseHistory {
    /// A plausible past: the active release and a few before it, one of them rolled back
    /// because its pods never started (rolling back to it fails its health check).
    pub fn seed(spec: &AppSpec, now: DateTime<Utc>) -> Self {
        let (major, minor, patch) = spec.version;
        let mut records = Vec::new();
        for age in 0..5u32 {
            let no = spec.release_no.saturating_sub(age);
            let version = match age {
                0 => format!("v{major}.{minor}.{patch}"),
                _ if patch >= age => format!("v{major}.{minor}.{}", patch - age),
                _ => format!("v{major}.{}.{}", minor.saturating_sub(1), 9 + patch - age),
            };
            let (status, traits) = match age {
                0 => (ReleaseStatus::Active, ReleaseTraits::GOOD),
                2 => (ReleaseStatus::RolledBack, ReleaseTraits::CRASH_ON_START),
                _ => (ReleaseStatus::Superseded, ReleaseTraits::GOOD),
            };
            let idx = (spec.release_no as usize + age as usize) % PAST_CAUSES.len();
            let created_at = now - Duration::hours(i64::from(age) * 52 + 7);
            records.push(ReleaseRecord {
                release: Release {
                    id: format!("r-{no}"),
                    artifact: artifact(spec, &version),
                    version,
                    created_at,
                    status,
                    change_cause: PAST_CAUSES[idx].to_string(),
                },
                traits,
            });
        }
        ReleaseHistory {
            records,
            next_no: spec.release_no + 1,
        }
    }

    pub fn active(&self) -> Option<&ReleaseRecord> {
        self.records
            .iter()
            .find(|r| r.release.status == ReleaseStatus::Active)
    }

    pub fn active_id(&self) -> String {
        self.active()
            .map(|r| r.release.id.clone())
            .unwrap_or_default()
    }

    pub fn get(&self, id: &str) -> Option<&ReleaseRecord> {
        self.records.iter().find(|r| r.release.id == id)
    }

    /// Traits of a release; a forgotten release behaves well.
    pub fn traits_of(&self, id: &str) -> ReleaseTraits {
        self.get(id).map_or(ReleaseTraits::GOOD, |r| r.traits)
    }

    /// The newest release older than the active one that was not failed or rolled back.
    pub fn previous_good(&self) -> Option<&ReleaseRecord> {
        let active = self
            .records
            .iter()
            .position(|r| r.release.status == ReleaseStatus::Active)?;
        self.records[active + 1..]
            .iter()
            .find(|r| r.release.status == ReleaseStatus::Superseded)
    }

    /// The next patch version after the newest release.
    pub fn next_version(&self) -> String {
        let newest = self.records.first().map(|r| r.release.version.as_str());
        let parts: Vec<u32> = newest
            .unwrap_or("v1.0.0")
            .trim_start_matches('v')
            .split('.')
            .filter_map(|p| p.parse().ok())
            .collect();
        match parts.as_slice() {
            [major, minor, patch] => format!("v{major}.{minor}.{}", patch + 1),
            _ => "v1.0.0".to_string(),
        }
    }

    /// Record a newly deployed release and make it active.
    pub fn deploy(
        &mut self,
        spec: &AppSpec,
        cause: &str,
        traits: ReleaseTraits,
        now: DateTime<Utc>,
    ) -> Release {
        let version = self.next_version();
        for record in &mut self.records {
            if record.release.status == ReleaseStatus::Active {
                record.release.status = ReleaseStatus::Superseded;
            }
        }
        let release = Release {
            id: format!("r-{}", self.next_no),
            artifact: artifact(spec, &version),
            version,
            created_at: now,
            status: ReleaseStatus::Active,
            change_cause: cause.to_string(),
        };
        self.next_no += 1;
        self.records.insert(
            0,
            ReleaseRecord {
                release: release.clone(),
                traits,
            },
        );
        self.records.truncate(HISTORY_CAP);
        release
    }

    /// Make `to` active again; the release rolled back from is marked rolled-back.
    pub fn roll_back(&mut self, to: &str) {
        for record in &mut self.records {
            if record.release.status == ReleaseStatus::Active {
                record.release.status = ReleaseStatus::RolledBack;
            }
            if record.release.id == to {
                record.release.status = ReleaseStatus::Active;
            }
        }
    }

    /// Newest first, as the API lists them.
    pub fn list(&self) -> Vec<Release> {
        self.records.iter().map(|r| r.release.clone()).collect()
    }

    /// Age of the active release in seconds.
    pub fn active_age_secs(&self, now: DateTime<Utc>) -> i64 {
        self.active()
            .map_or(i64::MAX, |r| (now - r.release.created_at).num_seconds())
    }

    pub fn len(&self) -> usize {
        self.records.len()
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;
    use crate::platform::sim::catalog::APPS;
    use chrono::TimeZone;

    fn cart() -> &'static AppSpec {
        APPS.iter().find(|a| a.id == "shop-cart").unwrap()
    }

    #[test]
    fn seeded_history_is_newest_first_with_one_active() {
        let now = Utc.with_ymd_and_hms(2025, 11, 11, 12, 0, 0).unwrap();
        let history = ReleaseHistory::seed(cart(), now);
        let list = history.list();
        assert_eq!(list[0].id, "r-41");
        assert_eq!(list[0].status, ReleaseStatus::Active);
        assert_eq!(list[0].artifact, "registry.cn-shanghai/shop/cart:v2.3.0");
        assert!(list.windows(2).all(|w| w[0].created_at > w[1].created_at));
        assert_eq!(
            list.iter()
                .filter(|r| r.status == ReleaseStatus::Active)
                .count(),
            1
        );
        // r-40 is superseded and good; r-39 was rolled back because it could not start.
        assert_eq!(history.previous_good().unwrap().release.id, "r-40");
        assert!(!history.traits_of("r-39").starts());
        assert!(history.traits_of("r-40").starts());
    }

    #[test]
    fn deploy_and_roll_back_move_the_active_marker() {
        let now = Utc.with_ymd_and_hms(2025, 11, 11, 12, 0, 0).unwrap();
        let mut history = ReleaseHistory::seed(cart(), now);
        let release = history.deploy(cart(), "feat: 满减", ReleaseTraits::GOOD, now);
        assert_eq!(release.id, "r-42");
        assert_eq!(release.version, "v2.3.1");
        assert_eq!(history.previous_good().unwrap().release.id, "r-41");
        history.roll_back("r-41");
        assert_eq!(history.active_id(), "r-41");
        assert_eq!(
            history.get("r-42").unwrap().release.status,
            ReleaseStatus::RolledBack
        );
        for _ in 0..40 {
            history.deploy(cart(), "chore", ReleaseTraits::GOOD, now);
        }
        assert_eq!(history.len(), HISTORY_CAP);
    }
}
