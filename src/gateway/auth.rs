//! Who is calling. Every request passes through [`identify`], which attaches an [`Actor`]. This is
//! the one place where tokens and roles will be checked; today every caller is the operator
//! named in the `X-Opsdeck-User` header, or "operator".

use std::sync::Arc;

use axum::extract::{Request, State};
use axum::middleware::Next;
use axum::response::Response;

use super::Gateway;

/// The person (or script) on whose behalf a request acts; recorded on actions and events.
#[derive(Clone, Debug, PartialEq)]
pub struct Actor(pub String);

pub async fn identify(
    State(gw): State<Arc<Gateway>>,
    mut request: Request,
    next: Next,
) -> Response {
    gw.stats.http_request();
    let name = request
        .headers()
        .get("x-opsdeck-user")
        .and_then(|v| v.to_str().ok())
        .map(str::trim)
        .filter(|v| !v.is_empty() && v.len() <= 64)
        .unwrap_or("operator")
        .to_string();
    request.extensions_mut().insert(Actor(name));
    next.run(request).await
}
