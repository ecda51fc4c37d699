//! HTTP driver: one task per request, each reply sent back as `Action::HttpReply` with the
//! request's id. Errors become [`HttpError`]s the core turns into notifications.

use std::sync::Arc;
use std::time::Duration;

use reqwest::{Method, StatusCode, Url};
use serde::de::DeserializeOwned;
use tokio::sync::mpsc;

use crate::app::{Action, HttpError, Reply, Request, RequestKind};
use crate::protocol::{ApproveRequest, ErrorBody, RollbackRequest, RunRequest, SilenceRequest};

/// How long one call may take before it counts as failed.
const TIMEOUT: Duration = Duration::from_secs(10);
/// Most of an unexpected error body quoted back to the operator.
const MAX_QUOTED: usize = 200;

/// Talks to the gateway's /v1 HTTP API.
#[derive(Clone, Debug)]
pub struct HttpClient {
    base: Url,
    client: reqwest::Client,
    /// Sent as `Authorization: Bearer` on every call, when the gateway checks tokens.
    token: Option<super::BearerToken>,
    /// How `https://` is verified.
    tls: Arc<rustls::ClientConfig>,
}

impl HttpClient {
    /// `ws_url` is the gateway's WebSocket URL; the HTTP base is derived from it. `https://`
    /// trusts the system roots only; see [`HttpClient::with_tls`] for more.
    pub fn new(ws_url: &str) -> anyhow::Result<Self> {
        Self::with_tls(ws_url, super::tls::client_config(None)?)
    }

    /// Like [`HttpClient::new`], with `https://` verified by `tls` (the stream driver's too).
    pub fn with_tls(ws_url: &str, tls: Arc<rustls::ClientConfig>) -> anyhow::Result<Self> {
        let base = super::http_base(ws_url).map_err(anyhow::Error::msg)?;
        let base = Url::parse(&base)?;
        let client = reqwest::Client::builder()
            .timeout(TIMEOUT)
            .connect_timeout(Duration::from_secs(3))
            .tls_backend_preconfigured(rustls::ClientConfig::clone(&tls))
            .build()?;
        Ok(HttpClient {
            base,
            client,
            token: None,
            tls,
        })
    }

    /// This client with calls allowed `timeout` each (default 10 s), e.g. for large answers.
    pub fn with_timeout(mut self, timeout: Duration) -> anyhow::Result<Self> {
        self.client = reqwest::Client::builder()
            .timeout(timeout)
            .connect_timeout(Duration::from_secs(3))
            .tls_backend_preconfigured(rustls::ClientConfig::clone(&self.tls))
            .build()?;
        Ok(self)
    }

    /// This client, sending `token` with every call.
    pub fn with_token(mut self, token: Option<super::BearerToken>) -> Self {
        self.token = token;
        self
    }

    /// `req` with the token, if there is one.
    fn authorized(&self, req: reqwest::RequestBuilder) -> reqwest::RequestBuilder {
        match self.token.as_ref().and_then(super::BearerToken::header) {
            Some(value) => req.header(reqwest::header::AUTHORIZATION, value),
            None => req,
        }
    }

    /// Run `request` on its own task; its reply goes to `actions`.
    pub fn spawn(&self, request: Request, actions: mpsc::Sender<Action>) {
        let this = self.clone();
        tokio::spawn(async move {
            let result = this.execute(&request.kind).await;
            if let Err(e) = &result {
                tracing::warn!(request_id = request.id, error = %e, "http request failed");
            }
            // The console may be gone; nothing to do then.
            let _ = actions
                .send(Action::HttpReply {
                    request_id: request.id,
                    result,
                })
                .await;
        });
    }

    fn url(&self, segments: &[&str]) -> Result<Url, HttpError> {
        let mut url = self.base.clone();
        url.path_segments_mut()
            .map_err(|_| HttpError::transport(format!("bad gateway URL {}", self.base)))?
            .pop_if_empty()
            .extend(segments);
        Ok(url)
    }

    /// Perform one call and decode its reply.
    pub async fn execute(&self, kind: &RequestKind) -> Result<Reply, HttpError> {
        match kind {
            RequestKind::FetchApps => self.get(&["v1", "apps"]).await.map(Reply::Apps),
            RequestKind::FetchAlerts => self.get(&["v1", "alerts"]).await.map(Reply::Alerts),
            RequestKind::FetchApp { app } => self
                .get(&["v1", "apps", app])
                .await
                .map(|d| Reply::App(Box::new(d))),
            RequestKind::FetchReleases { app } => self
                .get(&["v1", "apps", app, "releases"])
                .await
                .map(Reply::Releases),
            RequestKind::FetchMetrics { app } => self
                .get(&["v1", "apps", app, "metrics"])
                .await
                .map(Reply::Metrics),
            RequestKind::FetchAction { action } => self
                .get(&["v1", "actions", action])
                .await
                .map(|a| Reply::Action(Box::new(a))),
            RequestKind::FetchTimeline => self.get(&["v1", "events"]).await.map(Reply::Timeline),
            RequestKind::ScaleApp {
                app,
                replicas,
                idempotency_key,
                actor,
            } => {
                let body = serde_json::json!({ "replicas": replicas });
                self.post_as(
                    &["v1", "apps", app, "scale"],
                    &body,
                    Some(idempotency_key),
                    Some(actor),
                )
                .await
                .map(|a| Reply::Action(Box::new(a)))
            }
            RequestKind::Rollback {
                app,
                to,
                idempotency_key,
                actor,
            } => {
                let body = RollbackRequest { to: to.clone() };
                self.post_as(
                    &["v1", "apps", app, "rollback"],
                    &body,
                    Some(idempotency_key),
                    Some(actor),
                )
                .await
                .map(|a| Reply::Action(Box::new(a)))
            }
            RequestKind::AckAlert {
                alert,
                actor,
                idempotency_key,
            } => self
                .post_as(
                    &["v1", "alerts", alert, "ack"],
                    &serde_json::json!({}),
                    Some(idempotency_key),
                    Some(actor),
                )
                .await
                .map(|a| Reply::Alert(Box::new(a))),
            RequestKind::ExpireSilence {
                alert,
                actor,
                idempotency_key,
            } => self
                .change_as(
                    Method::DELETE,
                    &["v1", "alerts", alert, "silence"],
                    &serde_json::json!({}),
                    Some(idempotency_key),
                    Some(actor),
                )
                .await
                .map(|a| Reply::Alert(Box::new(a))),
            RequestKind::SilenceAlert {
                alert,
                duration,
                comment,
                actor,
                idempotency_key,
            } => {
                let body = SilenceRequest {
                    duration: duration.clone(),
                    comment: comment.clone(),
                };
                self.post_as(
                    &["v1", "alerts", alert, "silence"],
                    &body,
                    Some(idempotency_key),
                    Some(actor),
                )
                .await
                .map(|a| Reply::Alert(Box::new(a)))
            }
            RequestKind::FetchRunbooks => self.get(&["v1", "runbooks"]).await.map(Reply::Runbooks),
            RequestKind::FetchRunbook { runbook } => self
                .get(&["v1", "runbooks", runbook])
                .await
                .map(|d| Reply::Runbook(Box::new(d))),
            RequestKind::StartRun {
                runbook,
                params,
                dry_run,
                idempotency_key,
                actor,
            } => {
                let body = RunRequest {
                    params: params.clone(),
                    dry_run: *dry_run,
                };
                self.post_as(
                    &["v1", "runbooks", runbook, "runs"],
                    &body,
                    idempotency_key.as_ref(),
                    Some(actor),
                )
                .await
                .map(|r| Reply::Run(Box::new(r)))
            }
            RequestKind::FetchRuns => self.get(&["v1", "runs"]).await.map(Reply::Runs),
            RequestKind::FetchRun { run } => self
                .get(&["v1", "runs", run])
                .await
                .map(|r| Reply::Run(Box::new(r))),
            RequestKind::ControlRun {
                run,
                control,
                step,
                actor,
                idempotency_key,
            } => self
                .post_as(
                    &["v1", "runs", run, control.path()],
                    &ApproveRequest { step: step.clone() },
                    Some(idempotency_key),
                    Some(actor),
                )
                .await
                .map(|r| Reply::Run(Box::new(r))),
        }
    }

    async fn get<T: DeserializeOwned>(&self, path: &[&str]) -> Result<T, HttpError> {
        self.get_query(path, &[]).await
    }

    /// GET `path` with `query` parameters, decoded as `T` (`serde_json::Value` keeps the
    /// gateway's answer exactly as it came, for the CLI's JSON output).
    pub async fn get_query<T: DeserializeOwned>(
        &self,
        path: &[&str],
        query: &[(&str, String)],
    ) -> Result<T, HttpError> {
        let mut url = self.url(path)?;
        if !query.is_empty() {
            url.query_pairs_mut()
                .extend_pairs(query.iter().map(|(k, v)| (*k, v.as_str())));
        }
        let req = self.authorized(self.client.request(Method::GET, url));
        decode(req.send().await).await
    }

    /// POST on behalf of `actor` (sent as `X-Opsdeck-User`, recorded by the gateway).
    pub async fn post_as<B: serde::Serialize, T: DeserializeOwned>(
        &self,
        path: &[&str],
        body: &B,
        idempotency_key: Option<&String>,
        actor: Option<&String>,
    ) -> Result<T, HttpError> {
        self.change_as(Method::POST, path, body, idempotency_key, actor)
            .await
    }

    /// A change (POST, DELETE) on behalf of `actor`, under an idempotency key.
    async fn change_as<B: serde::Serialize, T: DeserializeOwned>(
        &self,
        method: Method,
        path: &[&str],
        body: &B,
        idempotency_key: Option<&String>,
        actor: Option<&String>,
    ) -> Result<T, HttpError> {
        let mut req = self
            .authorized(self.client.request(method, self.url(path)?))
            .json(body);
        if let Some(key) = idempotency_key {
            req = req.header("Idempotency-Key", key.as_str());
        }
        if let Some(actor) = actor.filter(|a| !a.is_empty()) {
            req = req.header("X-Opsdeck-User", actor.as_str());
        }
        decode(req.send().await).await
    }
}

async fn decode<T: DeserializeOwned>(
    sent: Result<reqwest::Response, reqwest::Error>,
) -> Result<T, HttpError> {
    let response = sent.map_err(|e| HttpError::transport(describe(&e)))?;
    let status = response.status();
    let bytes = response
        .bytes()
        .await
        .map_err(|e| HttpError::transport(describe(&e)))?;
    if status.is_success() {
        return serde_json::from_slice(&bytes).map_err(|e| HttpError {
            status: Some(status.as_u16()),
            code: "bad_reply".into(),
            message: format!("unexpected reply from the gateway: {e}"),
        });
    }
    Err(error_from(status, &bytes))
}

fn error_from(status: StatusCode, bytes: &[u8]) -> HttpError {
    match serde_json::from_slice::<ErrorBody>(bytes) {
        Ok(body) => HttpError {
            status: Some(status.as_u16()),
            code: body.error.code,
            message: body.error.message,
        },
        Err(_) => {
            let text = String::from_utf8_lossy(bytes);
            HttpError {
                status: Some(status.as_u16()),
                code: status
                    .canonical_reason()
                    .unwrap_or("error")
                    .to_lowercase()
                    .replace(' ', "_"),
                message: text.chars().take(MAX_QUOTED).collect(),
            }
        }
    }
}

fn describe(e: &reqwest::Error) -> String {
    if e.is_timeout() {
        "timed out".into()
    } else if e.is_connect() {
        // The innermost cause says why: refused, or a certificate the console does not trust.
        let mut cause: &dyn std::error::Error = e;
        while let Some(source) = cause.source() {
            cause = source;
        }
        if std::ptr::addr_eq(cause, e) {
            "cannot connect".into()
        } else {
            format!("cannot connect: {cause}")
        }
    } else {
        e.to_string()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    #[allow(clippy::unwrap_used)]
    fn urls_escape_path_segments() {
        let c = HttpClient::new("ws://127.0.0.1:7070").unwrap();
        let url = c.url(&["v1", "apps", "a b/c", "scale"]).unwrap();
        assert_eq!(
            url.as_str(),
            "http://127.0.0.1:7070/v1/apps/a%20b%2Fc/scale"
        );
    }

    #[test]
    fn error_bodies_are_decoded_and_others_quoted() {
        let e = error_from(
            StatusCode::UNPROCESSABLE_ENTITY,
            br#"{"error":{"code":"out_of_range","message":"replicas must be 2..=20"}}"#,
        );
        assert_eq!(e.status, Some(422));
        assert_eq!(e.code, "out_of_range");
        let e = error_from(StatusCode::BAD_GATEWAY, b"upstream sad");
        assert_eq!(
            (e.code.as_str(), e.message.as_str()),
            ("bad_gateway", "upstream sad")
        );
        assert!(e.is_transient());
    }
}
