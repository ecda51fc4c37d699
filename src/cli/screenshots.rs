//! `opsdeck screenshots`: regenerate screenshots/ — one SVG per view — from the simulator with a
//! fixed seed and clock, through the same `update` and `render` the live console uses.

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

enum Key {
    Text(&'static str),
    Code(KeyCode),
}

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
        file: "scale-dialog.svg",
        caption: "Scaling: the dialog shows the range and what the change means",
        scenario: None,
        warmup: 300,
        keys: &[
            Key::Text("/shop-cart"),
            Key::Code(KeyCode::Enter),
            Key::Text("S++++"),
        ],
    },
    Shot {
        file: "help.svg",
        caption: "Help, generated from the live keymap",
        scenario: None,
        warmup: 60,
        keys: &[Key::Text("?")],
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
