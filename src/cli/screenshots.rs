//! `opsdeck screenshots`: regenerate screenshots/ — one SVG per view — from the simulator with a
//! fixed seed and clock behind the gateway in-process (`offline`), through the same `update` and
//! `render` the live console uses.

use std::path::Path;

use anyhow::Context;
use chrono::{TimeZone, Utc};
use ratatui::Terminal;
use ratatui::backend::TestBackend;

use super::offline::Offline;
use crate::app::{KeyCode, KeyInput};
use crate::ui::render;
use crate::ui::svg::buffer_to_svg;
use crate::ui::theme::Theme;

/// Screen size of every screenshot.
pub const SIZE: (u16, u16) = (120, 32);

/// One screenshot: file name, what it shows, and how to get there from a fresh console.
struct Shot {
    file: &'static str,
    caption: &'static str,
    scenario: Option<&'static str>,
    /// Platform seconds to run before the keys.
    warmup: u64,
    keys: &'static [Key],
}

#[derive(Clone, Copy)]
enum Key {
    Text(&'static str),
    Code(KeyCode),
}

/// shop-cart picked in the overview (filter, kept), ready for a key that acts on it.
const PICK_SHOP_CART: [Key; 2] = [Key::Text("/shop-cart"), Key::Code(KeyCode::Enter)];

/// One screenshot per view and dialog.
const SHOTS: &[Shot] = &[
    Shot {
        file: "overview.svg",
        caption: "Overview: every app, live, with health colours and rps trends",
        scenario: None,
        warmup: 600,
        keys: &[],
    },
    Shot {
        file: "incident-bad-release.svg",
        caption: "Overview during the bad-release scenario: errors and a firing alert on 购物车",
        scenario: Some("bad-release"),
        warmup: 420,
        keys: &[],
    },
    Shot {
        file: "app.svg",
        caption: "App view: shop-cart minutes into the bad release, charts, pods, events, alerts",
        scenario: Some("bad-release"),
        warmup: 420,
        keys: &[
            PICK_SHOP_CART[0],
            PICK_SHOP_CART[1],
            Key::Code(KeyCode::Enter),
        ],
    },
    Shot {
        file: "logs.svg",
        caption: "Logs view: shop-cart's live tail, errors highlighted",
        scenario: Some("bad-release"),
        warmup: 420,
        keys: &[PICK_SHOP_CART[0], PICK_SHOP_CART[1], Key::Text("l")],
    },
    Shot {
        file: "alerts.svg",
        caption: "Alerts view: firing first by severity, with the selected alert's detail",
        scenario: Some("bad-release"),
        warmup: 420,
        keys: &[Key::Text("a")],
    },
    Shot {
        file: "releases.svg",
        caption: "Releases view: shop-cart's release history, newest first",
        scenario: Some("bad-release"),
        warmup: 420,
        keys: &[PICK_SHOP_CART[0], PICK_SHOP_CART[1], Key::Text("r")],
    },
    Shot {
        file: "events.svg",
        caption: "Events view: what happened on the platform and who did what",
        scenario: Some("bad-release"),
        warmup: 420,
        keys: &[Key::Text("E")],
    },
    Shot {
        file: "rollback-dialog.svg",
        caption: "Rollback: the dialog reviews the release to leave and the one to go back to",
        scenario: Some("bad-release"),
        warmup: 420,
        keys: &[
            PICK_SHOP_CART[0],
            PICK_SHOP_CART[1],
            Key::Code(KeyCode::Enter),
            Key::Text("R"),
        ],
    },
    Shot {
        file: "scale-dialog.svg",
        caption: "Scaling: the dialog shows the range and what the change means",
        scenario: None,
        warmup: 300,
        keys: &[PICK_SHOP_CART[0], PICK_SHOP_CART[1], Key::Text("S++++")],
    },
    Shot {
        file: "runbooks.svg",
        caption: "Runbooks: the shipped procedures, and the firing alerts that point at each",
        scenario: Some("bad-release"),
        warmup: 300,
        keys: &[Key::Text("Bj")],
    },
    Shot {
        file: "runbook-form.svg",
        caption: "From the firing alert, `b` opens its runbook with the app filled in; a dry run comes first",
        scenario: Some("bad-release"),
        warmup: 300,
        keys: &[Key::Text("ab")],
    },
    Shot {
        file: "help.svg",
        caption: "Help, generated from the live keymap",
        scenario: None,
        warmup: 60,
        keys: &[Key::Text("?")],
    },
    Shot {
        file: "command-line.svg",
        caption: "Command line: `:app s` completes app ids",
        scenario: None,
        warmup: 60,
        keys: &[Key::Text(":app s")],
    },
];

/// Write every screenshot into `dir` and an index (`dir/README.md`). Returns the file names.
pub fn run_screenshots(dir: &Path, seed: u64) -> anyhow::Result<Vec<String>> {
    std::fs::create_dir_all(dir).with_context(|| format!("creating {}", dir.display()))?;
    let start = Utc
        .with_ymd_and_hms(2026, 11, 23, 12, 0, 0)
        .single()
        .context("fixed start time")?;
    let theme = Theme::default();
    let mut index = String::from(
        "# Screenshots\n\nRegenerate with `cargo run --release -- screenshots` \
         (simulator seed 42, fixed clock, 120x32).\n\n",
    );
    let mut written = Vec::new();
    for shot in SHOTS {
        let mut console = Offline::new(seed, shot.scenario, start)?;
        // A fixed operator name, as `OPSDECK_USER` would give it.
        console.state.core.actor = "li.wei".into();
        console.advance(shot.warmup);
        for key in shot.keys {
            match key {
                Key::Text(text) => console.type_text(text),
                Key::Code(code) => console.press(KeyInput::plain(*code)),
            }
        }
        let mut terminal = Terminal::new(TestBackend::new(SIZE.0, SIZE.1))?;
        terminal.draw(|frame| render(&console.state, &theme, frame))?;
        let svg = buffer_to_svg(terminal.backend().buffer());
        let path = dir.join(shot.file);
        std::fs::write(&path, svg).with_context(|| format!("writing {}", path.display()))?;
        index.push_str(&format!(
            "## {}\n\n![{}]({})\n\n",
            shot.caption, shot.caption, shot.file
        ));
        written.push(shot.file.to_string());
    }
    std::fs::write(dir.join("README.md"), index)?;
    Ok(written)
}
