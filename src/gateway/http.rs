//! What the HTTP handlers (`routes`, `runs::api`) share: reading JSON bodies and the
//! Idempotency-Key header into the actions layer's terms, where a request came from ([`stamp`]),
//! and answering its outcomes.

use axum::Json;
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use serde::de::DeserializeOwned;

use super::actions::{IdempotencyKey, Origin};
use super::error::ApiError;

/// Longest Idempotency-Key accepted.
const MAX_KEY_LEN: usize = 128;

/// Parse a JSON body, answering 400 with serde's explanation when it is malformed.
pub fn parse_body<T: DeserializeOwned>(body: &[u8]) -> Result<T, ApiError> {
    serde_json::from_slice(body).map_err(|err| {
        if err.is_data() {
            ApiError::validation(format!("invalid request body: {err}"))
        } else {
            ApiError::bad_request(format!("malformed JSON body: {err}"))
        }
    })
}

/// Like [`parse_body`], but an empty (or blank) body is the type's default.
pub fn parse_optional_body<T: DeserializeOwned + Default>(body: &[u8]) -> Result<T, ApiError> {
    if body.iter().all(u8::is_ascii_whitespace) {
        Ok(T::default())
    } else {
        parse_body(body)
    }
}

/// The body re-serialized with sorted keys, so equivalent JSON fingerprints the same.
fn canonical(body: &[u8]) -> String {
    serde_json::from_slice::<serde_json::Value>(body)
        .map(|v| v.to_string())
        .unwrap_or_else(|_| String::from_utf8_lossy(body).into_owned())
}

/// The request's Idempotency-Key, if it has one, with the body it came with; 400 when the key
/// is not 1 to [`MAX_KEY_LEN`] visible ASCII characters.
pub fn idempotency_key(
    headers: &HeaderMap,
    body: &[u8],
) -> Result<Option<IdempotencyKey>, ApiError> {
    let Some(value) = headers.get("idempotency-key") else {
        return Ok(None);
    };
    let key = value
        .to_str()
        .map_err(|_| ApiError::bad_request("Idempotency-Key must be visible ASCII"))?;
    if key.is_empty() || key.len() > MAX_KEY_LEN {
        return Err(ApiError::bad_request(format!(
            "Idempotency-Key must be 1 to {MAX_KEY_LEN} characters"
        )));
    }
    Ok(Some(IdempotencyKey {
        key: key.to_string(),
        request: canonical(body),
    }))
}

/// `value` as a JSON answer with status `status` (keys sorted, as answers kept under a key
/// have always been).
pub fn answer<T: serde::Serialize>(status: StatusCode, value: &T) -> Response {
    let body = serde_json::to_value(value).unwrap_or_default();
    (status, Json(body)).into_response()
}

/// Longest `X-Request-Id` taken from a client; a longer (or non-ASCII) one is replaced.
const MAX_REQUEST_ID_LEN: usize = 128;

/// Attach the request's [`Origin`] (its id and the client's address) for the audit, and answer
/// with its id in `X-Request-Id`: the client's own when it sent a usable one, else a new one.
pub async fn stamp(mut request: axum::extract::Request, next: axum::middleware::Next) -> Response {
    let given = request
        .headers()
        .get("x-request-id")
        .and_then(|v| v.to_str().ok())
        .filter(|id| {
            !id.is_empty()
                && id.len() <= MAX_REQUEST_ID_LEN
                && id.bytes().all(|b| b.is_ascii_graphic())
        })
        .map(str::to_string);
    let request_id = given.unwrap_or_else(|| format!("req-{:016x}", fastrand::u64(..)));
    let client = request
        .extensions()
        .get::<axum::extract::ConnectInfo<std::net::SocketAddr>>()
        .map(|info| info.0);
    request.extensions_mut().insert(Origin {
        request_id: Some(request_id.clone()),
        client,
    });
    let mut response = next.run(request).await;
    if let Ok(value) = axum::http::HeaderValue::from_str(&request_id) {
        response.headers_mut().insert("x-request-id", value);
    }
    response
}
