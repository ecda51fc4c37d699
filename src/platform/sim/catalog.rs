//! What exists on the simulated cloud before anything runs: the apps, their sizing and routes,
//! and the regions with their availability zones.

/// What an app does; decides its platform-specific gauges and log vocabulary.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum AppKind {
    Storefront,
    Cart,
    FlashSale,
    Payments,
    Chat,
    Classroom,
    Crm,
    Orders,
    Auth,
    ImageOrigin,
}

/// The language an app is written in; decides the shape of its stack traces.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Runtime {
    Node,
    Java,
    Go,
}

/// When an app's users are awake.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum DailyShape {
    /// Consumers on their phones: lunch and evening peaks, quiet at night.
    Consumer,
    /// Staff at work: office hours only.
    Office,
}

/// One endpoint an app serves, with its share of the traffic.
#[derive(Clone, Copy, Debug)]
pub struct Route {
    pub method: &'static str,
    pub path: &'static str,
    pub weight: u32,
}

/// The static description of one app.
#[derive(Debug)]
pub struct AppSpec {
    /// ASCII kebab-case id used in URLs.
    pub id: &'static str,
    /// Display name, often Chinese.
    pub name: &'static str,
    pub kind: AppKind,
    pub runtime: Runtime,
    pub shape: DailyShape,
    pub region: &'static str,
    /// Image repository inside the regional registry, e.g. `shop/cart`.
    pub image: &'static str,
    /// Team that owns the app (alert label).
    pub team: &'static str,
    pub min: u32,
    pub max: u32,
    /// Replicas at start.
    pub replicas: u32,
    /// Requests per second at the daily peak, no incident.
    pub peak_rps: f64,
    /// Requests per second one replica serves at utilisation 1 with the nominal service time.
    pub capacity_rps: f64,
    /// Service time of one request with a warm cache and a healthy database, ms.
    pub service_ms: f64,
    /// The p99 latency objective, ms; alerts fire above it.
    pub slo_p99_ms: f64,
    /// Background error ratio of a healthy release.
    pub base_error: f64,
    /// Memory of one idle replica, MiB.
    pub memory_base_mb: f64,
    /// Container memory limit, MiB; above it the pod is OOM-killed.
    pub memory_limit_mb: f64,
    /// Whether the app reads through the shared Redis cache.
    pub cache: bool,
    /// Whether the app queries MySQL.
    pub db: bool,
    pub routes: &'static [Route],
    /// Version of the active release at start.
    pub version: (u32, u32, u32),
    /// Number of the active release at start (`r-41`).
    pub release_no: u32,
}

const fn route(method: &'static str, path: &'static str, weight: u32) -> Route {
    Route {
        method,
        path,
        weight,
    }
}

/// Every app on the simulated cloud.
pub const APPS: &[AppSpec] = &[
    AppSpec {
        id: "shop-storefront",
        name: "商城首页",
        kind: AppKind::Storefront,
        runtime: Runtime::Node,
        shape: DailyShape::Consumer,
        region: "cn-shanghai",
        image: "shop/storefront",
        team: "shop",
        min: 3,
        max: 40,
        replicas: 6,
        peak_rps: 420.0,
        capacity_rps: 140.0,
        service_ms: 28.0,
        slo_p99_ms: 600.0,
        base_error: 0.002,
        memory_base_mb: 380.0,
        memory_limit_mb: 1024.0,
        cache: true,
        db: true,
        routes: &[
            route("GET", "/api/home/feed", 40),
            route("GET", "/api/products/{sku}", 35),
            route("GET", "/api/search", 20),
            route("GET", "/api/banners", 5),
        ],
        version: (3, 12, 4),
        release_no: 87,
    },
    AppSpec {
        id: "shop-cart",
        name: "购物车",
        kind: AppKind::Cart,
        runtime: Runtime::Node,
        shape: DailyShape::Consumer,
        region: "cn-shanghai",
        image: "shop/cart",
        team: "shop",
        min: 2,
        max: 40,
        replicas: 4,
        peak_rps: 210.0,
        capacity_rps: 110.0,
        service_ms: 35.0,
        slo_p99_ms: 700.0,
        base_error: 0.003,
        memory_base_mb: 300.0,
        memory_limit_mb: 768.0,
        cache: true,
        db: true,
        routes: &[
            route("GET", "/api/cart", 50),
            route("POST", "/api/cart/items", 25),
            route("DELETE", "/api/cart/items/{sku}", 10),
            route("POST", "/api/cart/checkout", 15),
        ],
        version: (2, 3, 0),
        release_no: 41,
    },
    AppSpec {
        id: "flash-sale",
        name: "秒杀服务",
        kind: AppKind::FlashSale,
        runtime: Runtime::Go,
        shape: DailyShape::Consumer,
        region: "cn-shanghai",
        image: "shop/flash-sale",
        team: "promo",
        min: 2,
        max: 60,
        replicas: 3,
        peak_rps: 70.0,
        capacity_rps: 50.0,
        service_ms: 18.0,
        slo_p99_ms: 400.0,
        base_error: 0.002,
        memory_base_mb: 160.0,
        memory_limit_mb: 512.0,
        cache: true,
        db: false,
        routes: &[
            route("GET", "/api/seckill/activities", 45),
            route("POST", "/api/seckill/orders", 35),
            route("GET", "/api/seckill/stock/{sku}", 20),
        ],
        version: (1, 8, 2),
        release_no: 23,
    },
    AppSpec {
        id: "pay-callback",
        name: "支付回调",
        kind: AppKind::Payments,
        runtime: Runtime::Java,
        shape: DailyShape::Consumer,
        region: "cn-shenzhen",
        image: "pay/callback",
        team: "payments",
        min: 2,
        max: 20,
        replicas: 3,
        peak_rps: 45.0,
        capacity_rps: 40.0,
        service_ms: 60.0,
        slo_p99_ms: 1500.0,
        base_error: 0.001,
        memory_base_mb: 620.0,
        memory_limit_mb: 1536.0,
        cache: false,
        db: true,
        routes: &[
            route("POST", "/notify/wechatpay", 65),
            route("POST", "/notify/alipay", 30),
            route("POST", "/notify/refund", 5),
        ],
        version: (4, 2, 1),
        release_no: 58,
    },
    AppSpec {
        id: "live-chat",
        name: "在线客服",
        kind: AppKind::Chat,
        runtime: Runtime::Node,
        shape: DailyShape::Consumer,
        region: "cn-shenzhen",
        image: "cs/live-chat",
        team: "service",
        min: 2,
        max: 30,
        replicas: 4,
        peak_rps: 150.0,
        capacity_rps: 90.0,
        service_ms: 12.0,
        slo_p99_ms: 300.0,
        base_error: 0.002,
        memory_base_mb: 280.0,
        memory_limit_mb: 768.0,
        cache: true,
        db: false,
        routes: &[
            route("GET", "/ws/chat", 20),
            route("POST", "/api/messages", 55),
            route("GET", "/api/sessions/{id}/history", 25),
        ],
        version: (2, 0, 7),
        release_no: 34,
    },
    AppSpec {
        id: "live-classroom",
        name: "直播课堂",
        kind: AppKind::Classroom,
        runtime: Runtime::Go,
        shape: DailyShape::Consumer,
        region: "cn-beijing",
        image: "edu/classroom",
        team: "edu",
        min: 2,
        max: 30,
        replicas: 4,
        peak_rps: 120.0,
        capacity_rps: 80.0,
        service_ms: 20.0,
        slo_p99_ms: 500.0,
        base_error: 0.002,
        memory_base_mb: 240.0,
        memory_limit_mb: 1024.0,
        cache: false,
        db: true,
        routes: &[
            route("GET", "/ws/room/{id}", 25),
            route("POST", "/api/room/{id}/danmaku", 45),
            route("GET", "/api/room/{id}/playback", 30),
        ],
        version: (1, 14, 0),
        release_no: 52,
    },
    AppSpec {
        id: "crm",
        name: "客户管理",
        kind: AppKind::Crm,
        runtime: Runtime::Java,
        shape: DailyShape::Office,
        region: "cn-beijing",
        image: "biz/crm",
        team: "biz",
        min: 2,
        max: 10,
        replicas: 2,
        peak_rps: 30.0,
        capacity_rps: 35.0,
        service_ms: 80.0,
        slo_p99_ms: 2000.0,
        base_error: 0.002,
        memory_base_mb: 700.0,
        memory_limit_mb: 1536.0,
        cache: false,
        db: true,
        routes: &[
            route("GET", "/api/customers", 50),
            route("GET", "/api/customers/{id}", 30),
            route("POST", "/api/followups", 20),
        ],
        version: (5, 1, 3),
        release_no: 112,
    },
    AppSpec {
        id: "order-service",
        name: "订单服务",
        kind: AppKind::Orders,
        runtime: Runtime::Java,
        shape: DailyShape::Consumer,
        region: "cn-shanghai",
        image: "shop/order",
        team: "shop",
        min: 3,
        max: 40,
        replicas: 4,
        peak_rps: 140.0,
        capacity_rps: 70.0,
        service_ms: 45.0,
        slo_p99_ms: 900.0,
        base_error: 0.002,
        memory_base_mb: 650.0,
        memory_limit_mb: 1536.0,
        cache: true,
        db: true,
        routes: &[
            route("POST", "/api/orders", 35),
            route("GET", "/api/orders/{id}", 45),
            route("POST", "/api/orders/{id}/cancel", 5),
            route("GET", "/api/orders", 15),
        ],
        version: (6, 0, 2),
        release_no: 96,
    },
    AppSpec {
        id: "auth",
        name: "统一登录",
        kind: AppKind::Auth,
        runtime: Runtime::Go,
        shape: DailyShape::Consumer,
        region: "cn-shanghai",
        image: "infra/auth",
        team: "infra",
        min: 2,
        max: 20,
        replicas: 3,
        peak_rps: 160.0,
        capacity_rps: 160.0,
        service_ms: 9.0,
        slo_p99_ms: 250.0,
        base_error: 0.001,
        memory_base_mb: 120.0,
        memory_limit_mb: 512.0,
        cache: true,
        db: true,
        routes: &[
            route("POST", "/api/wx/login", 45),
            route("POST", "/api/token/refresh", 40),
            route("GET", "/api/userinfo", 15),
        ],
        version: (2, 9, 5),
        release_no: 77,
    },
    AppSpec {
        id: "img-origin",
        name: "图片源站",
        kind: AppKind::ImageOrigin,
        runtime: Runtime::Go,
        shape: DailyShape::Consumer,
        region: "cn-beijing",
        image: "infra/img-origin",
        team: "infra",
        min: 2,
        max: 20,
        replicas: 3,
        peak_rps: 90.0,
        capacity_rps: 70.0,
        service_ms: 25.0,
        slo_p99_ms: 800.0,
        base_error: 0.001,
        memory_base_mb: 200.0,
        memory_limit_mb: 1024.0,
        cache: false,
        db: false,
        routes: &[
            route("GET", "/img/{sku}/main.webp", 60),
            route("GET", "/img/{sku}/thumb.webp", 35),
            route("GET", "/img/banner/{id}.jpg", 5),
        ],
        version: (1, 3, 9),
        release_no: 19,
    },
];

/// The availability zones of a region.
pub fn zones(region: &str) -> &'static [&'static str] {
    match region {
        "cn-shanghai" => &["cn-shanghai-e", "cn-shanghai-f", "cn-shanghai-g"],
        "cn-shenzhen" => &["cn-shenzhen-c", "cn-shenzhen-d"],
        "cn-beijing" => &["cn-beijing-h", "cn-beijing-i", "cn-beijing-j"],
        _ => &[],
    }
}

/// The artifact reference of an app's image at a version.
pub fn artifact(spec: &AppSpec, version: &str) -> String {
    format!("registry.{}/{}:{}", spec.region, spec.image, version)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn catalog_ids_are_unique_kebab_case_with_sane_sizing() {
        assert!((8..=12).contains(&APPS.len()));
        for (i, spec) in APPS.iter().enumerate() {
            assert!(
                spec.id
                    .chars()
                    .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-'),
                "{}",
                spec.id
            );
            assert!(APPS[..i].iter().all(|other| other.id != spec.id));
            assert!(spec.min <= spec.replicas && spec.replicas <= spec.max);
            assert!(!zones(spec.region).is_empty(), "{}", spec.region);
            assert!(!spec.routes.is_empty());
        }
    }
}
