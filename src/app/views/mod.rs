//! The console's views. Each owns its fields of `State` and its keys, and reads the shared
//! [`Core`](super::core::Core); a view never imports another view (tests/architecture_console.rs).

pub mod alerts;
pub mod app_view;
pub mod logs;
pub mod overview;
pub mod runbook_form;
pub mod runbooks;
pub mod runs;
pub mod timeline;
