//! The runbook file as TOML deserializes it, every value with its byte span so that validation
//! can point at the line. Unknown keys are refused here (a typo is an error, not a no-op).

use std::collections::BTreeMap;

use serde::Deserialize;
use toml::Spanned;

#[derive(Deserialize, Debug)]
#[serde(deny_unknown_fields)]
pub struct RawRunbook {
    pub id: Option<Spanned<String>>,
    pub title: Option<Spanned<String>>,
    pub description: Option<Spanned<String>>,
    #[serde(default)]
    pub params: BTreeMap<String, Spanned<RawParam>>,
    #[serde(default)]
    pub steps: Vec<Spanned<RawStep>>,
    #[serde(default)]
    pub fallbacks: Vec<Spanned<RawStep>>,
}

#[derive(Deserialize, Debug)]
#[serde(deny_unknown_fields)]
pub struct RawParam {
    #[serde(rename = "type")]
    pub kind: Option<Spanned<String>>,
    pub default: Option<Spanned<toml::Value>>,
    pub description: Option<Spanned<String>>,
    pub min: Option<Spanned<i64>>,
    pub max: Option<Spanned<i64>>,
}

/// Every key any step kind takes; which ones a kind accepts is checked in validation.
#[derive(Deserialize, Debug)]
#[serde(deny_unknown_fields)]
pub struct RawStep {
    pub id: Option<Spanned<String>>,
    pub kind: Option<Spanned<String>>,
    pub title: Option<Spanned<String>>,
    pub timeout: Option<Spanned<String>>,
    pub retries: Option<Spanned<i64>>,
    pub backoff: Option<Spanned<String>>,
    pub on_failure: Option<Spanned<toml::Value>>,
    pub app: Option<Spanned<String>>,
    pub replicas: Option<Spanned<toml::Value>>,
    pub to: Option<Spanned<String>>,
    pub wait: Option<Spanned<bool>>,
    /// On an approval step: someone other than the run's starter must approve.
    pub four_eyes: Option<Spanned<bool>>,
    pub condition: Option<Spanned<String>>,
    #[serde(rename = "for")]
    pub hold: Option<Spanned<String>>,
    pub url: Option<Spanned<String>>,
    pub expect_status: Option<Spanned<i64>>,
    pub expect_body: Option<Spanned<String>>,
    pub message: Option<Spanned<String>>,
    pub rule: Option<Spanned<String>>,
    pub duration: Option<Spanned<String>>,
    pub comment: Option<Spanned<String>>,
}
