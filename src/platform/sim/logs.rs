//! Log lines generated from an app's state each second: sampled access logs with structured
//! fields, warnings when the app strains, errors with stack traces when requests fail (more when
//! erroring), and a little app-specific chatter, some of it Chinese.

use std::collections::BTreeMap;

use fastrand::Rng;

use super::catalog::{AppKind, AppSpec, Route};
use super::deployment::Deployment;
use super::model::TIMEOUT_MS;
use super::noise::{hex, normal, poisson};
use super::pods::PodSim;
use super::releases::Defect;
use super::stacks::{Cause, error_text, oom_text};
use crate::protocol::{Level, LogLine};

/// Most access lines one app logs per second (the rest are sampled away).
const MAX_ACCESS_PER_SEC: f64 = 12.0;

fn pick_route<'a>(routes: &'a [Route], rng: &mut Rng) -> Option<&'a Route> {
    let total: u32 = routes.iter().map(|r| r.weight).sum();
    if total == 0 {
        return routes.first();
    }
    let mut n = rng.u32(0..total);
    for route in routes {
        if n < route.weight {
            return Some(route);
        }
        n -= route.weight;
    }
    routes.last()
}

fn fill_path(template: &str, rng: &mut Rng) -> String {
    template
        .replace("{sku}", &rng.u32(10_000..99_999).to_string())
        .replace("{id}", &rng.u32(1_000..9_999).to_string())
}

fn line(pod: &PodSim, level: Level, message: String) -> LogLine {
    LogLine {
        pod: pod.name.clone(),
        level,
        message,
        fields: BTreeMap::new(),
    }
}

/// Every log line an app writes in one second.
pub fn generate(app: &Deployment, rng: &mut Rng) -> Vec<LogLine> {
    let ready: Vec<&PodSim> = app.pods.iter().filter(|p| p.is_ready()).collect();
    if ready.is_empty() {
        return Vec::new();
    }
    let spec = app.spec;
    let sample = &app.sample;
    let mut lines = Vec::new();

    // Errors not explained by a release's defect come from load or backends.
    let defect_share = ready
        .iter()
        .map(|p| app.releases.traits_of(&p.release).error_ratio)
        .sum::<f64>()
        / ready.len() as f64;
    let ambient_error = (sample.error_ratio - defect_share).max(0.0);
    let ambient_cause = if app.rho > 0.95 {
        Cause::Overload
    } else if app.cache_hit < 0.8 || app.db_latency_ms > 20.0 {
        Cause::Backend
    } else {
        Cause::Other
    };

    let access = poisson(rng, (1.5 + sample.rps / 30.0).min(MAX_ACCESS_PER_SEC));
    for _ in 0..access {
        let pod = ready[rng.usize(..ready.len())];
        let traits = app.releases.traits_of(&pod.release);
        let Some(route) = pick_route(spec.routes, rng) else {
            break;
        };
        let path = fill_path(route.path, rng);
        let defect = traits.defect == Defect::NullDeref && rng.f64() < traits.error_ratio;
        let failed = defect || rng.f64() < ambient_error;
        let latency = if failed && ambient_cause == Cause::Overload && !defect {
            TIMEOUT_MS * (0.3 + 0.7 * rng.f64())
        } else {
            (sample.latency_ms.p50 * (0.6 * normal(rng)).exp()).min(TIMEOUT_MS)
        };
        let status = if defect {
            500
        } else if failed {
            match ambient_cause {
                Cause::Overload if latency > 3000.0 => 504,
                Cause::Overload => 503,
                Cause::Backend => 502,
                _ => 500,
            }
        } else {
            ok_status(spec, route.method, rng)
        };
        let level = if status >= 500 {
            Level::Error
        } else if latency > spec.slo_p99_ms {
            Level::Warn
        } else {
            Level::Info
        };
        let mut fields = BTreeMap::new();
        fields.insert("method".into(), route.method.to_string());
        fields.insert("path".into(), path.clone());
        fields.insert("status".into(), status.to_string());
        fields.insert("latency_ms".into(), format!("{latency:.0}"));
        fields.insert("trace_id".into(), hex(rng, 16));
        if spec.kind == AppKind::Payments {
            let channel = if path.contains("alipay") {
                "alipay"
            } else {
                "wechatpay"
            };
            fields.insert("channel".into(), channel.into());
        }
        lines.push(LogLine {
            pod: pod.name.clone(),
            level,
            message: format!("{} {path} {status} {latency:.0}ms", route.method),
            fields,
        });
        if status >= 500 && rng.bool() {
            let cause = if defect { Cause::Defect } else { ambient_cause };
            let mut error = line(pod, Level::Error, error_text(spec, cause, &path));
            error.fields.insert("status".into(), status.to_string());
            lines.push(error);
        }
    }

    push_strain_warnings(app, &ready, rng, &mut lines);
    push_chatter(spec, &ready, rng, &mut lines);
    lines
}

fn ok_status(spec: &AppSpec, method: &str, rng: &mut Rng) -> u16 {
    let roll = rng.u32(0..1000);
    match (spec.kind, method) {
        (AppKind::Auth, _) if roll < 25 => 401,
        (AppKind::ImageOrigin, _) if roll < 200 => 304,
        (_, _) if roll < 8 => 404,
        (_, "POST") => 201,
        _ => 200,
    }
}

fn push_strain_warnings(
    app: &Deployment,
    ready: &[&PodSim],
    rng: &mut Rng,
    out: &mut Vec<LogLine>,
) {
    let pick = |rng: &mut Rng| ready[rng.usize(..ready.len())];
    if app.rho > 0.85 {
        for _ in 0..poisson(rng, 0.8) {
            let pod = pick(rng);
            let used = (app.rho.min(1.0) * 100.0).round();
            out.push(line(
                pod,
                Level::Warn,
                format!("连接池使用率 {used}%，{} 个请求排队等待", rng.u32(5..60)),
            ));
        }
    }
    if app.spec.cache && app.cache_hit < 0.8 {
        for _ in 0..poisson(rng, 1.2) {
            let pod = pick(rng);
            out.push(line(
                pod,
                Level::Warn,
                format!(
                    "缓存未命中，回源 MySQL: key=sku:{} hit_ratio={:.2}",
                    rng.u32(10_000..99_999),
                    app.cache_hit
                ),
            ));
        }
    }
    if app.spec.db && app.db_latency_ms > 20.0 {
        for _ in 0..poisson(rng, 0.5) {
            let pod = pick(rng);
            let ms = app.db_latency_ms * (4.0 + 4.0 * rng.f64());
            out.push(line(
                pod,
                Level::Warn,
                format!(
                    "slow query {ms:.0}ms: SELECT * FROM sku_stock WHERE sku_id = ? FOR UPDATE"
                ),
            ));
        }
    }
    let memory_share = app.max_memory_share();
    if memory_share > 0.8 {
        for _ in 0..poisson(rng, 0.3) {
            let pod = pick(rng);
            out.push(line(
                pod,
                Level::Warn,
                format!(
                    "heap usage {:.0}% of limit, GC pause {}ms",
                    memory_share * 100.0,
                    rng.u32(80..900)
                ),
            ));
        }
    }
    if app.spec.kind == AppKind::FlashSale && app.sample.rps > 200.0 {
        for _ in 0..poisson(rng, app.sample.rps / 150.0) {
            let pod = pick(rng);
            out.push(line(
                pod,
                Level::Warn,
                format!(
                    "秒杀商品 {} 库存不足，拒绝下单 uid={}",
                    rng.u32(10_000..10_050),
                    rng.u32(1_000_000..9_999_999)
                ),
            ));
        }
    }
}

fn push_chatter(spec: &AppSpec, ready: &[&PodSim], rng: &mut Rng, out: &mut Vec<LogLine>) {
    for _ in 0..poisson(rng, 0.4) {
        let pod = ready[rng.usize(..ready.len())];
        let n = rng.u32(100_000..999_999);
        let message = match spec.kind {
            AppKind::Storefront => format!("首页推荐位刷新完成，{} 个商品", rng.u32(40..120)),
            AppKind::Cart => format!("购物车合并完成 uid={n}"),
            AppKind::FlashSale => format!("库存预热完成 activity=ss-{}", rng.u32(100..999)),
            AppKind::Payments => format!("微信支付回调验签成功 out_trade_no=WX2025{n}"),
            AppKind::Chat => format!("WebSocket 连接建立 uid={n} agent=cs-{}", rng.u32(1..80)),
            AppKind::Classroom => format!("直播间 {} 在线人数 {}", rng.u32(1000..1100), n / 100),
            AppKind::Crm => format!("客户跟进记录已保存 customer={n}"),
            AppKind::Orders => format!("订单创建成功 order_id=O{n}"),
            AppKind::Auth => format!("code2session ok openid=o6_bmj{}", hex(rng, 8)),
            AppKind::ImageOrigin => format!("cache fill img/{n}/main.webp {}KB", rng.u32(40..400)),
        };
        out.push(line(pod, Level::Info, message));
    }
    if rng.u32(0..40) == 0 {
        let pod = ready[rng.usize(..ready.len())];
        out.push(line(
            pod,
            Level::Debug,
            format!("health check ok in {}ms", rng.u32(1..5)),
        ));
    }
}

/// What a pod logs when it becomes ready.
pub fn started(spec: &AppSpec, pod: &str, release: &str, version: &str) -> LogLine {
    LogLine {
        pod: pod.to_string(),
        level: Level::Info,
        message: format!(
            "服务启动完成，监听 :8080 ({} {version}, release {release})",
            spec.id
        ),
        fields: BTreeMap::new(),
    }
}

/// What a pod logs as it is OOM-killed.
pub fn oom_killed(spec: &AppSpec, pod: &str) -> LogLine {
    LogLine {
        pod: pod.to_string(),
        level: Level::Error,
        message: oom_text(spec.runtime).to_string(),
        fields: BTreeMap::new(),
    }
}
