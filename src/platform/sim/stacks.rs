//! Error texts with stack traces, per runtime and cause, as the apps would print them. Multi-line
//! on purpose: the console must render and fold them.

use super::catalog::{AppKind, AppSpec, Runtime};

/// Why a request failed, as far as the logs can tell.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Cause {
    /// The release's own bug.
    Defect,
    /// Too much load: pool exhausted, deadline exceeded.
    Overload,
    /// The cache is slow or missing and the database is struggling.
    Backend,
    /// Everything else, at background rates.
    Other,
}

/// The error text for a failed request: a Chinese headline and a stack trace.
pub fn error_text(spec: &AppSpec, cause: Cause, path: &str) -> String {
    let headline = match (spec.kind, cause) {
        (AppKind::Payments, _) => "支付回调处理失败，已返回 FAIL 等待渠道重试",
        (AppKind::Cart, Cause::Defect) => "结算失败：优惠计算异常",
        (AppKind::FlashSale, Cause::Overload) => "秒杀下单超时，请求已丢弃",
        (_, Cause::Overload) => "请求处理超时",
        (_, Cause::Backend) => "读取缓存失败，回源数据库超时",
        (_, Cause::Defect) => "未处理的异常",
        (_, Cause::Other) => "请求处理失败",
    };
    format!("{headline} {path}\n{}", trace(spec.runtime, cause))
}

fn trace(runtime: Runtime, cause: Cause) -> &'static str {
    match (runtime, cause) {
        (Runtime::Node, Cause::Defect) => {
            "TypeError: Cannot read properties of undefined (reading 'couponId')
    at calcStackedDiscount (/app/src/services/coupon.js:88:31)
    at CartService.checkout (/app/src/services/cart.js:142:22)
    at async Router.handle (/app/src/routes/cart.js:57:18)
    at async /app/node_modules/koa-compose/index.js:42:32"
        }
        (Runtime::Node, Cause::Overload) => {
            "Error: Timeout acquiring a connection. The pool is probably full.
    at Pool.acquire (/app/node_modules/tarn/dist/Pool.js:203:23)
    at Client_MySQL2.acquireConnection (/app/node_modules/knex/lib/client.js:312:19)
    at async Runner.ensureConnection (/app/node_modules/knex/lib/execution/runner.js:287:28)"
        }
        (Runtime::Node, Cause::Backend) => {
            "Error: Command timed out
    at Timeout._onTimeout (/app/node_modules/ioredis/built/Command.js:192:33)
    at listOnTimeout (node:internal/timers:573:17)
    at process.processTimers (node:internal/timers:514:7)"
        }
        (Runtime::Node, Cause::Other) => {
            "Error: socket hang up
    at connResetException (node:internal/errors:787:14)
    at TLSSocket.socketOnEnd (node:_http_client:519:23)"
        }
        (Runtime::Java, Cause::Defect) => {
            "java.lang.NullPointerException: Cannot invoke \"com.mall.order.Order.getAmount()\" because \"order\" is null
\tat com.mall.pay.notify.WechatPayNotifyHandler.handle(WechatPayNotifyHandler.java:118)
\tat com.mall.pay.notify.NotifyController.wechat(NotifyController.java:46)
\tat org.springframework.web.servlet.FrameworkServlet.service(FrameworkServlet.java:897)"
        }
        (Runtime::Java, Cause::Overload) => {
            "org.springframework.jdbc.CannotGetJdbcConnectionException: Failed to obtain JDBC Connection
\tat org.springframework.jdbc.datasource.DataSourceUtils.getConnection(DataSourceUtils.java:84)
\tat com.mall.order.repo.OrderRepository.insert(OrderRepository.java:61)
Caused by: java.sql.SQLTransientConnectionException: HikariPool-1 - Connection is not available, request timed out after 3000ms.
\tat com.zaxxer.hikari.pool.HikariPool.createTimeoutException(HikariPool.java:696)"
        }
        (Runtime::Java, Cause::Backend) => {
            "io.lettuce.core.RedisCommandTimeoutException: Command timed out after 200 millisecond(s)
\tat io.lettuce.core.internal.ExceptionFactory.createTimeoutException(ExceptionFactory.java:59)
\tat com.mall.common.cache.RedisCache.get(RedisCache.java:77)
\tat com.mall.order.service.OrderQueryService.detail(OrderQueryService.java:133)"
        }
        (Runtime::Java, Cause::Other) => {
            "java.net.SocketTimeoutException: Read timed out
\tat java.base/sun.nio.ch.NioSocketImpl.timedRead(NioSocketImpl.java:288)
\tat okhttp3.internal.connection.RealCall.execute(RealCall.kt:154)"
        }
        (Runtime::Go, Cause::Defect) => {
            "panic: runtime error: invalid memory address or nil pointer dereference
[signal SIGSEGV: segmentation violation code=0x1 addr=0x18 pc=0x8d4a2f]

goroutine 1843 [running]:
main.(*StockService).Reserve(0xc0001a2000, {0xa3c1e0, 0xc000522f30}, 0x2713)
\t/src/internal/stock/service.go:212 +0x2f"
        }
        (Runtime::Go, Cause::Overload) => {
            "context deadline exceeded
goroutine 911 [running]:
main.(*Handler).ServeHTTP(0xc0000b4120, {0xa41f08, 0xc0004c61c0}, 0xc0002f4300)
\t/src/internal/http/handler.go:88 +0x1a5"
        }
        (Runtime::Go, Cause::Backend) => {
            "redis: i/o timeout (read tcp 10.0.4.17:52114->10.0.9.3:6379)
goroutine 402 [running]:
github.com/redis/go-redis/v9.(*baseClient).process(...)
\t/go/pkg/mod/github.com/redis/go-redis/v9@v9.5.1/redis.go:386 +0x9c"
        }
        (Runtime::Go, Cause::Other) => {
            "dial tcp 10.0.7.21:443: connect: connection refused
goroutine 77 [running]:
net/http.(*Transport).dialConn(...)
\t/usr/local/go/src/net/http/transport.go:1776 +0x3c5"
        }
    }
}

/// What a runtime prints when the kernel kills it for memory.
pub fn oom_text(runtime: Runtime) -> &'static str {
    match runtime {
        Runtime::Node => {
            "FATAL ERROR: Reached heap limit Allocation failed - JavaScript heap out of memory
 1: 0xb9c310 node::Abort() [node]
 2: 0xaa27ee  [node]
 3: 0xd73950 v8::Utils::ReportOOMFailure(v8::internal::Isolate*, char const*, bool) [node]
容器内存超过限制，进程被 OOMKilled (exit code 137)"
        }
        Runtime::Java => {
            "java.lang.OutOfMemoryError: Java heap space
\tat java.base/java.util.Arrays.copyOf(Arrays.java:3537)
\tat java.base/java.util.ArrayList.grow(ArrayList.java:237)
容器内存超过限制，进程被 OOMKilled (exit code 137)"
        }
        Runtime::Go => {
            "fatal error: runtime: out of memory

runtime stack:
runtime.throw({0x9b0c2e?, 0x2000?})
\t/usr/local/go/src/runtime/panic.go:1077 +0x5c
容器内存超过限制，进程被 OOMKilled (exit code 137)"
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::platform::sim::catalog::APPS;

    #[test]
    fn error_texts_are_multi_line_with_a_chinese_headline() {
        for spec in APPS {
            for cause in [Cause::Defect, Cause::Overload, Cause::Backend, Cause::Other] {
                let text = error_text(spec, cause, "/api/x");
                assert!(text.lines().count() >= 3, "{text}");
                assert!(!text.is_ascii());
            }
        }
    }
}
