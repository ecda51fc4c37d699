//! Drivers: the network side of the console. They carry out [`crate::app::Effect`]s and report
//! back with [`crate::app::Action`]s over a bounded channel; the UI loop never awaits them.

pub mod backoff;
pub mod http;
pub mod stream;
pub mod tls;

/// The console's gateway token. Its `Debug` shows no token, so it cannot reach a log line by
/// accident; only the drivers read it, to send it as `Authorization: Bearer`.
#[derive(Clone, PartialEq, Eq)]
pub struct BearerToken(String);

impl BearerToken {
    pub fn new(token: impl Into<String>) -> BearerToken {
        BearerToken(token.into())
    }

    /// The token itself, for the `Authorization` header and nothing else.
    pub fn expose(&self) -> &str {
        &self.0
    }

    /// `Bearer <token>`, marked sensitive so HTTP libraries leave it out of their logs; `None`
    /// when the token cannot be a header value.
    pub fn header(&self) -> Option<reqwest::header::HeaderValue> {
        let mut value =
            reqwest::header::HeaderValue::from_str(&format!("Bearer {}", self.0)).ok()?;
        value.set_sensitive(true);
        Some(value)
    }
}

impl std::fmt::Debug for BearerToken {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("BearerToken(<redacted>)")
    }
}

/// The HTTP base URL for a gateway WebSocket URL: `ws://h:p` becomes `http://h:p`,
/// `wss://` becomes `https://`; a trailing slash is dropped.
pub fn http_base(ws_url: &str) -> Result<String, String> {
    let url = ws_url.trim().trim_end_matches('/');
    if let Some(rest) = url.strip_prefix("ws://") {
        Ok(format!("http://{rest}"))
    } else if let Some(rest) = url.strip_prefix("wss://") {
        Ok(format!("https://{rest}"))
    } else if url.starts_with("http://") || url.starts_with("https://") {
        Ok(url.to_string())
    } else {
        Err(format!(
            "gateway URL {ws_url:?} should start with ws:// or wss:// (e.g. ws://127.0.0.1:7070)"
        ))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn http_base_follows_the_ws_url() {
        assert_eq!(
            http_base("ws://127.0.0.1:7070").as_deref(),
            Ok("http://127.0.0.1:7070")
        );
        assert_eq!(
            http_base("wss://gw.example/").as_deref(),
            Ok("https://gw.example")
        );
        assert!(http_base("127.0.0.1:7070").is_err());
    }
}
