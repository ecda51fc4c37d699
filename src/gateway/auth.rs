//! Who is calling. Every request — each HTTP route and the stream's upgrade — passes through
//! [`identify`], which attaches an [`Actor`]: a name and a [`Role`].
//!
//! With `--tokens`, the caller is the token's name and role: `Authorization: Bearer <token>`,
//! or for the stream also the subprotocol `opsdeck.bearer.<token>` (browsers cannot set headers
//! on a WebSocket). No token or an unknown one is a 401 with `WWW-Authenticate`; an address that
//! failed too often is a 429 with `Retry-After` until its window ends. `X-Opsdeck-User` is then
//! ignored: a name the caller picks must not override the one its token proves.
//!
//! Without tokens (loopback only), the caller is the person named in `X-Opsdeck-User`, or
//! "operator", with every right, as before tokens existed.
//!
//! Whether the role may do what it asks is decided in one place, `actions::authorize`.

use std::net::SocketAddr;
use std::sync::Arc;

use axum::extract::{ConnectInfo, Request, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};

use super::Gateway;
use super::error::ApiError;
use crate::protocol::{Identity, Role};

/// The stream subprotocol a client that cannot set headers offers next to [`STREAM_PROTOCOL`],
/// followed by its token.
pub const BEARER_PROTOCOL_PREFIX: &str = "opsdeck.bearer.";

/// The stream subprotocol the gateway answers with when a client offers it.
pub const STREAM_PROTOCOL: &str = "opsdeck";

/// The person (or script) on whose behalf a request acts, and what they may do; recorded on
/// actions and events.
#[derive(Clone, Debug, PartialEq)]
pub struct Actor {
    name: String,
    role: Role,
}

impl Actor {
    pub fn new(name: impl Into<String>, role: Role) -> Actor {
        Actor {
            name: name.into(),
            role,
        }
    }

    /// The token's name, or the `X-Opsdeck-User` name on a gateway without tokens.
    pub fn name(&self) -> &str {
        &self.name
    }

    pub fn role(&self) -> Role {
        self.role
    }

    /// As `hello` reports it to the client.
    pub fn identity(&self) -> Identity {
        Identity {
            name: self.name.clone(),
            role: self.role,
        }
    }
}

pub async fn identify(
    State(gw): State<Arc<Gateway>>,
    mut request: Request,
    next: Next,
) -> Response {
    gw.stats.http_request();
    let actor = match &gw.config.tokens {
        None => {
            actor_from(request.headers().get("x-opsdeck-user")).map_err(IntoResponse::into_response)
        }
        Some(tokens) => {
            let client = request
                .extensions()
                .get::<ConnectInfo<SocketAddr>>()
                .map(|c| c.0.ip().to_string())
                .unwrap_or_default();
            let stream = request.uri().path() == "/v1/stream";
            authenticate(&gw, tokens, request.headers(), stream, &client)
                .map_err(Refusal::into_response)
        }
    };
    match actor {
        Ok(actor) => {
            request.extensions_mut().insert(actor);
            next.run(request).await
        }
        Err(refusal) => refusal,
    }
}

/// The actor `headers` prove with a token, or the response refusing them.
fn authenticate(
    gw: &Gateway,
    tokens: &super::Tokens,
    headers: &HeaderMap,
    stream: bool,
    client: &str,
) -> Result<Actor, Refusal> {
    let now = std::time::Instant::now();
    // Refused before the token is looked at: a right guess must not answer differently.
    if let Some(wait) = gw.auth_failures.blocked(client, now) {
        gw.stats.auth_throttle();
        return Err(Refusal::Throttled {
            retry_after_secs: wait.as_secs().max(1),
        });
    }
    let presented = bearer(headers).or_else(|| stream.then(|| subprotocol_token(headers))?);
    let (message, challenge) = match presented {
        None => (
            "this gateway needs a token: send Authorization: Bearer <token>",
            "Bearer realm=\"opsdeck\"",
        ),
        Some(token) => match tokens.verify(token) {
            Some((name, role)) => return Ok(Actor::new(name, role)),
            None => (
                "the token was not accepted (unknown, revoked or mistyped)",
                "Bearer realm=\"opsdeck\", error=\"invalid_token\"",
            ),
        },
    };
    gw.stats.auth_failed();
    let _ = gw.auth_failures.check(client, now);
    tracing::info!(%client, "authentication failed");
    Err(Refusal::Unauthorized { message, challenge })
}

/// Why a caller was not let in.
enum Refusal {
    /// No token or an unknown one (401), with the `WWW-Authenticate` challenge.
    Unauthorized {
        message: &'static str,
        challenge: &'static str,
    },
    /// The address failed too often (429).
    Throttled { retry_after_secs: u64 },
}

impl IntoResponse for Refusal {
    fn into_response(self) -> Response {
        match self {
            Refusal::Unauthorized { message, challenge } => {
                let mut response = ApiError::new(StatusCode::UNAUTHORIZED, "unauthorized", message)
                    .into_response();
                response.headers_mut().insert(
                    header::WWW_AUTHENTICATE,
                    HeaderValue::from_static(challenge),
                );
                response
            }
            Refusal::Throttled { retry_after_secs } => ApiError::new(
                StatusCode::TOO_MANY_REQUESTS,
                "too_many_failures",
                format!(
                    "too many failed authentications from this address; try again in \
                     {retry_after_secs} s"
                ),
            )
            .retry_after(retry_after_secs)
            .into_response(),
        }
    }
}

/// The token of an `Authorization: Bearer <token>` header.
fn bearer(headers: &HeaderMap) -> Option<&str> {
    let value = headers.get(header::AUTHORIZATION)?.to_str().ok()?.trim();
    let (scheme, token) = value.split_once(' ')?;
    scheme
        .eq_ignore_ascii_case("bearer")
        .then(|| token.trim())
        .filter(|t| !t.is_empty())
}

/// The token of an `opsdeck.bearer.<token>` subprotocol in `Sec-WebSocket-Protocol`.
fn subprotocol_token(headers: &HeaderMap) -> Option<&str> {
    headers
        .get_all(header::SEC_WEBSOCKET_PROTOCOL)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(','))
        .find_map(|p| p.trim().strip_prefix(BEARER_PROTOCOL_PREFIX))
        .filter(|t| !t.is_empty())
}

/// Longest user name accepted, in bytes.
const MAX_NAME: usize = 64;

/// The actor named by an `X-Opsdeck-User` header value (UTF-8, so 李伟 stays 李伟), or
/// "operator" when there is none, with every right (a gateway without tokens). A name that is
/// not UTF-8, blank or too long is a 400: it must never silently become someone else.
pub fn actor_from(value: Option<&HeaderValue>) -> Result<Actor, ApiError> {
    let Some(value) = value else {
        return Ok(Actor::new("operator", Role::Admin));
    };
    let name = std::str::from_utf8(value.as_bytes())
        .map(str::trim)
        .map_err(|_| ApiError::bad_request("X-Opsdeck-User must be UTF-8"))?;
    if name.is_empty() || name.len() > MAX_NAME || name.chars().any(char::is_control) {
        return Err(ApiError::bad_request(format!(
            "X-Opsdeck-User must be 1 to {MAX_NAME} bytes of printable text"
        )));
    }
    Ok(Actor::new(name, Role::Admin))
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[test]
    fn user_names_are_read_as_utf8_and_bad_ones_refused() {
        let chinese = HeaderValue::from_bytes("李伟".as_bytes()).unwrap();
        assert_eq!(actor_from(Some(&chinese)).unwrap().name(), "李伟");
        assert_eq!(actor_from(None).unwrap().name(), "operator");
        let latin1 = HeaderValue::from_bytes(&[0xe9, 0x41]).unwrap();
        assert_eq!(actor_from(Some(&latin1)).unwrap_err().status.as_u16(), 400);
        let long = HeaderValue::from_str(&"x".repeat(65)).unwrap();
        assert!(actor_from(Some(&long)).is_err());
        let blank = HeaderValue::from_static("  ");
        assert!(actor_from(Some(&blank)).is_err());
    }

    #[test]
    fn tokens_are_read_from_the_header_or_the_stream_subprotocol() {
        let mut headers = HeaderMap::new();
        assert_eq!(bearer(&headers), None);
        headers.insert(
            header::AUTHORIZATION,
            HeaderValue::from_static("bearer abc"),
        );
        assert_eq!(bearer(&headers), Some("abc"));
        headers.insert(header::AUTHORIZATION, HeaderValue::from_static("Basic abc"));
        assert_eq!(bearer(&headers), None);
        headers.insert(
            header::SEC_WEBSOCKET_PROTOCOL,
            HeaderValue::from_static("opsdeck, opsdeck.bearer.xyz"),
        );
        assert_eq!(subprotocol_token(&headers), Some("xyz"));
    }
}
