//! Incident scenarios: what each one does to the platform and for how long. Lasting scenarios
//! (flash sale, cache degradation, zone outage) shape traffic, cache and zones while they run;
//! one-shot scenarios (bad release, memory leak) ship a defective release and leave the fix to
//! the operator.

use super::catalog::AppSpec;
use super::releases::{Defect, ReleaseTraits};

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ScenarioKind {
    FlashSale,
    BadRelease,
    CacheDegradation,
    AzOutage,
    MemoryLeak,
}

/// How many times its usual traffic a flash sale brings an app at its height.
fn flash_sale_surge(spec: &AppSpec) -> f64 {
    match spec.id {
        "flash-sale" => 10.0,
        "shop-cart" | "order-service" => 2.5,
        "shop-storefront" | "pay-callback" => 1.8,
        "auth" | "img-origin" => 1.5,
        _ => 1.0,
    }
}

/// The app that receives the defective release in the bad-release scenario.
pub const BAD_RELEASE_APP: &str = "shop-cart";
/// The app that receives the leaking release in the memory-leak scenario.
pub const MEMORY_LEAK_APP: &str = "live-chat";
/// The zone that goes dark in the az-outage scenario.
pub const OUTAGE_ZONE: &str = "cn-shanghai-f";
/// Apps on the shared `redis-shop` cluster that the cache degradation hits.
const CACHE_APPS: &[&str] = &["shop-storefront", "shop-cart", "order-service"];

/// Seconds to reach full strength.
const RAMP_SECS: u64 = 45;

impl ScenarioKind {
    pub const ALL: [ScenarioKind; 5] = [
        ScenarioKind::FlashSale,
        ScenarioKind::BadRelease,
        ScenarioKind::CacheDegradation,
        ScenarioKind::AzOutage,
        ScenarioKind::MemoryLeak,
    ];

    pub fn name(self) -> &'static str {
        match self {
            ScenarioKind::FlashSale => "flash-sale",
            ScenarioKind::BadRelease => "bad-release",
            ScenarioKind::CacheDegradation => "cache-degradation",
            ScenarioKind::AzOutage => "az-outage",
            ScenarioKind::MemoryLeak => "memory-leak",
        }
    }

    pub fn parse(name: &str) -> Option<ScenarioKind> {
        ScenarioKind::ALL.into_iter().find(|k| k.name() == name)
    }

    /// How long a lasting scenario runs, ramp-down included; `None` for one-shot ones.
    fn duration_secs(self) -> Option<u64> {
        match self {
            ScenarioKind::FlashSale => Some(25 * 60),
            ScenarioKind::CacheDegradation => Some(20 * 60),
            ScenarioKind::AzOutage => Some(20 * 60),
            ScenarioKind::BadRelease | ScenarioKind::MemoryLeak => None,
        }
    }

    /// What the timeline says when the scenario starts.
    pub fn announcement(self) -> &'static str {
        match self {
            ScenarioKind::FlashSale => {
                "双十一秒杀活动开始：flash-sale, cart and order traffic surge"
            }
            ScenarioKind::BadRelease => "shop-cart v-next rolled out by the pipeline",
            ScenarioKind::CacheDegradation => {
                "redis-shop primary failed over; the new primary starts cold"
            }
            ScenarioKind::AzOutage => "zone cn-shanghai-f lost power: its nodes are unreachable",
            ScenarioKind::MemoryLeak => {
                "live-chat release with an unbounded session cache rolled out"
            }
        }
    }

    /// The defective release a one-shot scenario ships: (app, change cause, traits).
    pub fn release(self) -> Option<(&'static str, &'static str, ReleaseTraits)> {
        match self {
            ScenarioKind::BadRelease => Some((
                BAD_RELEASE_APP,
                "feat: 跨店满减优惠券叠加",
                ReleaseTraits {
                    error_ratio: 0.22,
                    latency_factor: 1.15,
                    leak_mb_per_min: 0.0,
                    defect: Defect::NullDeref,
                },
            )),
            ScenarioKind::MemoryLeak => Some((
                MEMORY_LEAK_APP,
                "perf: 会话消息本地缓存 (LRU)",
                ReleaseTraits {
                    error_ratio: 0.0,
                    latency_factor: 0.95,
                    leak_mb_per_min: 220.0,
                    defect: Defect::SessionLeak,
                },
            )),
            _ => None,
        }
    }
}

/// A lasting scenario in progress.
#[derive(Clone, Copy, Debug)]
struct Running {
    kind: ScenarioKind,
    started: u64,
    ends: u64,
}

impl Running {
    /// Strength 0..=1: ramps up, holds, and ramps down over the last five minutes.
    fn strength(&self, tick: u64) -> f64 {
        if tick < self.started || tick >= self.ends {
            return 0.0;
        }
        let up = (tick - self.started) as f64 / RAMP_SECS as f64;
        let down = (self.ends - tick) as f64 / 300.0;
        up.min(down).min(1.0)
    }
}

/// The lasting scenarios in progress.
#[derive(Clone, Debug, Default)]
pub struct Scenarios {
    running: Vec<Running>,
}

impl Scenarios {
    /// Begin a lasting scenario; false when that scenario is already running.
    pub fn begin(&mut self, kind: ScenarioKind, tick: u64) -> bool {
        let Some(duration) = kind.duration_secs() else {
            return true;
        };
        if self.is_running(kind) {
            return false;
        }
        self.running.push(Running {
            kind,
            started: tick,
            ends: tick + duration,
        });
        true
    }

    pub fn is_running(&self, kind: ScenarioKind) -> bool {
        self.running.iter().any(|r| r.kind == kind)
    }

    /// Drop scenarios that have run their course; returns the ones that ended.
    pub fn expire(&mut self, tick: u64) -> Vec<ScenarioKind> {
        let ended: Vec<ScenarioKind> = self
            .running
            .iter()
            .filter(|r| tick >= r.ends)
            .map(|r| r.kind)
            .collect();
        self.running.retain(|r| tick < r.ends);
        ended
    }

    fn strength(&self, kind: ScenarioKind, tick: u64) -> f64 {
        self.running
            .iter()
            .filter(|r| r.kind == kind)
            .map(|r| r.strength(tick))
            .fold(0.0, f64::max)
    }

    /// Multiplier on an app's traffic.
    pub fn traffic(&self, spec: &AppSpec, tick: u64) -> f64 {
        1.0 + (flash_sale_surge(spec) - 1.0) * self.strength(ScenarioKind::FlashSale, tick)
    }

    /// How far the hour's traffic of an app is lifted to its daily peak (see
    /// `Conditions::peak`): by a flash sale, for the apps it draws traffic to.
    pub fn peak(&self, spec: &AppSpec, tick: u64) -> f64 {
        if flash_sale_surge(spec) > 1.0 {
            self.strength(ScenarioKind::FlashSale, tick)
        } else {
            0.0
        }
    }

    /// How degraded an app's cache is, 0..=1.
    pub fn cache_pressure(&self, spec: &AppSpec, tick: u64) -> f64 {
        if CACHE_APPS.contains(&spec.id) {
            self.strength(ScenarioKind::CacheDegradation, tick)
        } else {
            0.0
        }
    }

    /// Zones whose nodes are unreachable.
    pub fn down_zones(&self, tick: u64) -> Vec<&'static str> {
        if self.strength(ScenarioKind::AzOutage, tick) > 0.0 {
            vec![OUTAGE_ZONE]
        } else {
            Vec::new()
        }
    }

    pub fn len(&self) -> usize {
        self.running.len()
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;
    use crate::platform::sim::SCENARIOS;
    use crate::platform::sim::catalog::APPS;

    #[test]
    fn every_public_scenario_name_parses() {
        for name in SCENARIOS {
            assert_eq!(ScenarioKind::parse(name).unwrap().name(), *name);
        }
        assert!(ScenarioKind::parse("meteor").is_none());
    }

    #[test]
    fn a_flash_sale_ramps_up_holds_and_ends() {
        let spec = APPS.iter().find(|a| a.id == "flash-sale").unwrap();
        let crm = APPS.iter().find(|a| a.id == "crm").unwrap();
        let mut scenarios = Scenarios::default();
        assert!(scenarios.begin(ScenarioKind::FlashSale, 100));
        assert!(!scenarios.begin(ScenarioKind::FlashSale, 101));
        assert!(scenarios.traffic(spec, 110) > 1.5 && scenarios.traffic(spec, 110) < 10.0);
        assert_eq!(scenarios.traffic(spec, 100 + 600), 10.0);
        assert_eq!(scenarios.traffic(crm, 100 + 600), 1.0);
        assert_eq!(
            scenarios.expire(100 + 25 * 60),
            vec![ScenarioKind::FlashSale]
        );
        assert_eq!(scenarios.traffic(spec, 100 + 25 * 60), 1.0);
    }
}
