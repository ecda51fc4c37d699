//! Who is calling. Every request passes through [`identify`], which attaches an [`Actor`]. This is
//! the one place where tokens and roles will be checked; today every caller is the person named
//! in the `X-Opsdeck-User` header, or "operator".

use std::sync::Arc;

use axum::extract::{Request, State};
use axum::http::HeaderValue;
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};

use super::error::ApiError;

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
    match actor_from(request.headers().get("x-opsdeck-user")) {
        Ok(actor) => {
            request.extensions_mut().insert(actor);
            next.run(request).await
        }
        Err(err) => err.into_response(),
    }
}

/// Longest user name accepted, in bytes.
const MAX_NAME: usize = 64;

/// The actor named by an `X-Opsdeck-User` header value (UTF-8, so 李伟 stays 李伟), or
/// "operator" when there is none. A name that is not UTF-8, blank or too long is a 400: it must
/// never silently become someone else.
pub fn actor_from(value: Option<&HeaderValue>) -> Result<Actor, ApiError> {
    let Some(value) = value else {
        return Ok(Actor("operator".into()));
    };
    let name = std::str::from_utf8(value.as_bytes())
        .map(str::trim)
        .map_err(|_| ApiError::bad_request("X-Opsdeck-User must be UTF-8"))?;
    if name.is_empty() || name.len() > MAX_NAME || name.chars().any(char::is_control) {
        return Err(ApiError::bad_request(format!(
            "X-Opsdeck-User must be 1 to {MAX_NAME} bytes of printable text"
        )));
    }
    Ok(Actor(name.to_string()))
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[test]
    fn user_names_are_read_as_utf8_and_bad_ones_refused() {
        let chinese = HeaderValue::from_bytes("李伟".as_bytes()).unwrap();
        assert_eq!(actor_from(Some(&chinese)).unwrap().0, "李伟");
        assert_eq!(actor_from(None).unwrap().0, "operator");
        let latin1 = HeaderValue::from_bytes(&[0xe9, 0x41]).unwrap();
        assert_eq!(actor_from(Some(&latin1)).unwrap_err().status.as_u16(), 400);
        let long = HeaderValue::from_str(&"x".repeat(65)).unwrap();
        assert!(actor_from(Some(&long)).is_err());
        let blank = HeaderValue::from_static("  ");
        assert!(actor_from(Some(&blank)).is_err());
    }
}
