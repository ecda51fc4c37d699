//! opsdeck: a terminal operations console for a mini-program cloud, and the gateway it talks to.
//!
//! Module arrows point one way: `app` (pure console core) <- `ui` (drawing) <- `tui` (terminal
//! glue); `client` drives the network for the console; `gateway` serves it; both meet only in
//! `protocol`; the gateway reaches the world only through `platform::Platform`.

pub mod app;
pub mod cli;
pub mod client;
pub mod config;
pub mod duration;
pub mod gateway;
pub mod platform;
pub mod protocol;
pub mod runbook;
pub mod tui;
pub mod ui;
