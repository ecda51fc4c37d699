//! The dialogs over a view: scale, rollback, acknowledge and silence, and the quit question. Each is built from the
//! core and the app it acts on, and imports no view (tests/architecture_console.rs). The y/N of
//! runbook runs belongs to the Runbooks view.

pub mod alert_dialog;
pub mod quit;
pub mod rollback;
pub mod scale;
