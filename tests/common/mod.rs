//! The test harness every test binary shares: `mod common;` at the top of a test file, then
//! take what the test needs.
//!
//! - [`gateway`]: a real gateway on 127.0.0.1:0 (over the simulator, the load generator or a
//!   platform of the test's own), stopped with `Running::stop`; HTTP helpers for it; a
//!   WebSocket [`Client`](stream::Client) for its stream.
//! - [`keys`]: `press(&mut state, "/shop-cart<Enter>")` — a key sequence in the keymap notation
//!   (`j`, `<Enter>`, `<Esc>`, `<Down>`, `<C-c>`) becomes `Action::Key` updates;
//!   `type_text(&mut state, "…")` types every character as it is.
//! - [`screen`]: render a `State` into a `TestBackend` of a fixed size and return its text.
//! - [`wait`]: wait on a condition with a deadline instead of sleeping and hoping (for real
//!   sockets and real time; code on tokio time alone can use paused time instead).
//! - fixed data on one fixed clock: [`fixtures`] (apps, `loaded_state`), [`alert_fixtures`],
//!   [`log_fixtures`], [`runbook_fixtures`], [`view_fixtures`].
//! - [`fake_gateway`]: a scripted stand-in for the gateway, for driver tests.
//! - [`kube_api`]: a fake Kubernetes API server that checks the requests it gets.
//! - [`pty`]: the real `opsdeck` binary in a pseudo-terminal; the harness plays a terminal that
//!   answers the console's per-frame question at once (as real ones do), when the test says
//!   (`Answers::Held`, [`Console::answer`](pty::Console::answer)), or never.
//! - [`pki`]: a test certificate authority (rcgen) and gateways serving TLS with its certificates.
//!
//! A new test is a few lines:
//!
//! ```ignore
//! mod common;
//! use common::{fixtures::loaded_state, keys::press, screen::screen};
//!
//! #[test]
//! fn scale_opens_a_dialog_over_the_overview() {
//!     let mut state = loaded_state(false);
//!     press(&mut state, "S");
//!     assert!(state.dialog.is_some());
//!     insta::assert_snapshot!(screen(&state, 80, 24));
//! }
//! ```
//!
//! and against a gateway:
//!
//! ```ignore
//! #[tokio::test]
//! async fn the_simulator_lists_its_apps() {
//!     let gw = common::gateway::start_sim(7, 1.0, None).await;
//!     let apps: Vec<AppSummary> = common::gateway::get_json(&gw, "/v1/apps").await;
//!     assert!(!apps.is_empty());
//!     gw.stop().await;
//! }
//! ```
//!
//! Each test binary uses a subset, hence the `dead_code` allowance.
#![allow(dead_code, unused_imports, clippy::unwrap_used)]

pub mod alert_fixtures;
pub mod cli;
pub mod fake_gateway;
pub mod fixtures;
pub mod gateway;
pub mod keys;
pub mod kube_api;
pub mod log_fixtures;
pub mod pki;
pub mod pty;
pub mod real;
pub mod runbook_fixtures;
pub mod screen;
pub mod stream;
pub mod view_fixtures;
pub mod wait;
