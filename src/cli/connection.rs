//! What a scripting command connects to, decided in one place: the gateway's address, the token,
//! the TLS roots, whether it is production, and whether the operator named the context
//! explicitly. Config contexts feed into [`resolve`] too, so every command agrees.

use std::sync::Arc;

use super::exit::{CliError, CliResult, Exit};
use super::{ConnectionArgs, ViewArgs};
use crate::client::BearerToken;
use crate::client::http::HttpClient;
use crate::config::console::{Given, Settings};
use crate::config::provenance::Origin;

/// Where scripting commands go when no `--url` is given: `opsdeck serve`'s default address.
pub const DEFAULT_URL: &str = "ws://127.0.0.1:7070";

/// A resolved connection to a gateway.
#[derive(Clone, Debug)]
pub struct Connection {
    /// The gateway's stream URL (`ws://` or `wss://`); its HTTP API is the same address over
    /// `http(s)://`.
    pub url: String,
    /// The gateway's /v1 HTTP API, with the token and the TLS roots.
    pub http: HttpClient,
    /// The TLS roots, for the stream.
    pub tls: Arc<rustls::ClientConfig>,
    pub token: Option<BearerToken>,
    /// The gateway is production: a change needs a typed confirmation, or a named context.
    pub production: bool,
    /// The operator named the context on this command line (`--context`), so a script against
    /// production cannot land there by a default.
    pub explicit_context: bool,
    /// Who the changes are made as, on a gateway without tokens (`X-Opsdeck-User`).
    pub actor: String,
}

/// The connection `args` describe, over the config file's context (flag > environment >
/// context > file defaults, as the console). The token is read (file, command, environment)
/// here, once.
pub fn resolve(args: &ConnectionArgs) -> CliResult<Connection> {
    let given = Given::from_args(args, &ViewArgs::default());
    let settings = Settings::resolve(&given).map_err(|e| CliError::usage(e.to_string()))?;
    for warning in settings.file.iter().flat_map(|f| &f.warnings) {
        eprintln!("opsdeck: warning: {warning}");
    }
    let url = settings
        .url
        .value
        .clone()
        .unwrap_or_else(|| DEFAULT_URL.to_string());
    let tls = crate::client::tls::client_config(settings.ca_cert.value.as_deref())
        .map_err(|e| CliError::usage(e.to_string()))?;
    let token = match &settings.token.value {
        Some(source) => Some(BearerToken::new(
            source
                .read()
                .map_err(|e| CliError::new(Exit::Auth, format!("{e:#}")))?,
        )),
        None => None,
    };
    let http = HttpClient::with_tls(&url, tls.clone())
        .map_err(|e| CliError::usage(format!("{e:#}")))?
        .with_token(token.clone());
    Ok(Connection {
        url,
        http,
        tls,
        token,
        production: settings.production.value,
        explicit_context: settings.context.origin == Origin::Flag("--context".into()),
        actor: crate::tui::actor_name(),
    })
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[test]
    fn without_a_url_the_local_gateway_is_used_and_a_bad_one_is_a_usage_error() {
        let conn = resolve(&ConnectionArgs::default()).unwrap();
        assert_eq!(conn.url, DEFAULT_URL);
        assert!(!conn.explicit_context);
        let bad = ConnectionArgs {
            url: Some("127.0.0.1:7070".into()),
            ..ConnectionArgs::default()
        };
        assert_eq!(resolve(&bad).unwrap_err().exit, Exit::Usage);
    }
}
