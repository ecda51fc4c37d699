//! Exit codes of the scripting commands, one per class of failure, so a script can tell "not
//! found" from "the gateway is down" without reading stderr. docs/cli.md lists them; they are
//! stable.

use crate::app::HttpError;

/// How a command ended. The numbers are part of the CLI's contract.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Exit {
    /// Everything asked was done.
    Success = 0,
    /// Anything else: a gateway error (5xx), an unreadable reply, a local file.
    Failure = 1,
    /// The command line is wrong, or a change was refused before it was sent (no TTY and no
    /// `--yes`, production without `--context`, the confirmation not given). clap uses 2 too.
    Usage = 2,
    /// 401 or 403: no token, a wrong one, or a role that may not do this.
    Auth = 3,
    /// 404: no such app, alert, release, runbook or run.
    NotFound = 4,
    /// 422 (and 400): the gateway refused the request as invalid.
    Validation = 5,
    /// 409: the request conflicts with the current state.
    Conflict = 6,
    /// 429: too many actions (or failed logins) in a minute.
    RateLimited = 7,
    /// `--wait` reached `--timeout` before the change or run ended.
    TimedOut = 8,
    /// The gateway could not be reached (refused, DNS, TLS, no answer in time).
    Unreachable = 9,
    /// The change or run ended, and it failed (or was aborted).
    RunFailed = 10,
}

impl Exit {
    pub fn code(self) -> u8 {
        self as u8
    }

    /// The exit code for an HTTP failure.
    pub fn for_http(err: &HttpError) -> Exit {
        match err.status {
            None => Exit::Unreachable,
            Some(401 | 403) => Exit::Auth,
            Some(404) => Exit::NotFound,
            Some(400 | 422) => Exit::Validation,
            Some(409) => Exit::Conflict,
            Some(429) => Exit::RateLimited,
            Some(_) => Exit::Failure,
        }
    }
}

/// A command that did not succeed: what to print on stderr and how to exit.
#[derive(Debug, thiserror::Error)]
#[error("{message}")]
pub struct CliError {
    pub exit: Exit,
    pub message: String,
}

impl CliError {
    pub fn new(exit: Exit, message: impl Into<String>) -> CliError {
        CliError {
            exit,
            message: message.into(),
        }
    }

    pub fn usage(message: impl Into<String>) -> CliError {
        CliError::new(Exit::Usage, message)
    }

    pub fn failure(message: impl Into<String>) -> CliError {
        CliError::new(Exit::Failure, message)
    }
}

impl From<HttpError> for CliError {
    fn from(err: HttpError) -> CliError {
        CliError::new(Exit::for_http(&err), err.to_string())
    }
}

impl From<anyhow::Error> for CliError {
    fn from(err: anyhow::Error) -> CliError {
        CliError::failure(format!("{err:#}"))
    }
}

impl From<std::io::Error> for CliError {
    fn from(err: std::io::Error) -> CliError {
        CliError::failure(err.to_string())
    }
}

impl From<serde_json::Error> for CliError {
    fn from(err: serde_json::Error) -> CliError {
        CliError::failure(format!("unexpected reply from the gateway: {err}"))
    }
}

pub type CliResult<T = ()> = Result<T, CliError>;

#[cfg(test)]
mod tests {
    use super::*;

    fn http(status: Option<u16>) -> HttpError {
        HttpError {
            status,
            code: "x".into(),
            message: "y".into(),
        }
    }

    #[test]
    fn each_http_failure_class_has_its_own_code() {
        let codes: Vec<u8> = [
            None,
            Some(401),
            Some(403),
            Some(404),
            Some(422),
            Some(409),
            Some(429),
            Some(503),
        ]
        .into_iter()
        .map(|s| Exit::for_http(&http(s)).code())
        .collect();
        assert_eq!(codes, [9, 3, 3, 4, 5, 6, 7, 1]);
    }
}
