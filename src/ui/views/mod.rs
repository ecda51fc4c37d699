//! One module per screen. Each draws the body area between the header and the status bar.

pub mod alerts;
pub mod app;
pub mod events;
pub mod logs;
pub mod overview;
pub mod releases;
pub mod run;
pub mod runbook;
pub mod runbooks;
pub mod runs;
