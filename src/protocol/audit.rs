//! The audit record: one change the gateway made or refused, as the audit file keeps it, GET
//! /v1/audit answers it and the `audit` topic sends it.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

/// The `prev` of a chain's first record: no record comes before it.
pub const GENESIS: &str = "0000000000000000000000000000000000000000000000000000000000000000";

/// One audited change. `hash` is the SHA-256 (hex) of the record's line as written, with `hash`
/// left empty; `prev` is the `hash` of the record before it, so editing, removing or reordering a
/// record breaks the chain (see docs/security.md, `## Audit`).
#[derive(Serialize, Deserialize, Clone, Debug, PartialEq)]
pub struct AuditRecord {
    /// 1, 2, 3, ... in the order the records were written.
    pub seq: u64,
    /// When the gateway wrote it, by the gateway host's clock (UTC).
    pub at: DateTime<Utc>,
    /// The platform's clock at that moment: the clock of the timeline, alerts and runs.
    pub platform_time: DateTime<Utc>,
    /// Who asked (a person or script; for a run step, the run on behalf of who started it).
    pub actor: String,
    /// The actor's role when it asked.
    pub role: String,
    /// What was done: `scale`, `rollback`, `ack`, `silence`, `run_start`, `run_approve`,
    /// `run_abort`, `run_resume`, `scenario` (simulator only), or, for the chain itself,
    /// `audit_chain_start`, `audit_recovered`.
    pub action: String,
    /// What it was done to: an app, an alert, a runbook or a run.
    pub target: String,
    /// The app it concerns, when there is one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub app: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub from: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub to: Option<String>,
    /// `ok` or `failed`.
    pub result: AuditResult,
    /// What happened, in words: the change (`scale shop-cart 4 -> 6`) or why it failed.
    pub message: String,
    /// The HTTP request's id (`X-Request-Id`, given by the client or made by the gateway).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub request_id: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub idempotency_key: Option<String>,
    /// The client's address (ip:port) as the gateway saw it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub client: Option<String>,
    /// The run whose step made this change.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub run: Option<String>,
    pub prev: String,
    pub hash: String,
}

#[derive(Serialize, Deserialize, Clone, Copy, Debug, PartialEq, Eq)]
#[serde(rename_all = "snake_case")]
pub enum AuditResult {
    Ok,
    Failed,
}

impl AuditResult {
    pub fn as_str(self) -> &'static str {
        match self {
            AuditResult::Ok => "ok",
            AuditResult::Failed => "failed",
        }
    }
}
