//! What the scripting commands print: `-o table` (the default), `-o json` or `-o yaml`.
//!
//! JSON is the gateway's answer as it came (the API's own shapes, docs/openapi.yaml); YAML is
//! the same value. Tables are for people: on a terminal they fit its width (the rightmost
//! columns are cut with `…`, then left out; the id column stays whole) and states are coloured;
//! piped, they are plain — every cell whole, no escape codes. Colours are also off when `NO_COLOR` is set. Followed streams (`-f`,
//! `--watch`, `--wait`) print one line per event: a table row's text, or one compact JSON
//! object per line (NDJSON), or one YAML document per event.

use std::io::{IsTerminal, Write};

use clap::ValueEnum;
use serde_json::Value;
use unicode_width::{UnicodeWidthChar, UnicodeWidthStr};

use super::exit::{CliError, CliResult};

#[derive(ValueEnum, Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum Format {
    #[default]
    Table,
    Json,
    Yaml,
}

/// How a cell is coloured on a terminal.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Tone {
    Plain,
    Good,
    Bad,
    Warn,
    Muted,
}

impl Tone {
    fn code(self) -> Option<&'static str> {
        match self {
            Tone::Plain => None,
            Tone::Good => Some("\x1b[32m"),
            Tone::Bad => Some("\x1b[31m"),
            Tone::Warn => Some("\x1b[33m"),
            Tone::Muted => Some("\x1b[2m"),
        }
    }

    /// The tone of a state word the API uses (`succeeded`, `failed`, `firing`, `healthy`, …).
    pub fn of_state(state: &str) -> Tone {
        match state {
            "healthy" | "succeeded" | "ready" | "active" | "resolved" | "ok" => Tone::Good,
            "down" | "failed" | "firing" | "crash_loop" | "aborted" | "error" | "P0" | "P1" => {
                Tone::Bad
            }
            "degraded" | "scaling" | "rolling-back" | "in_progress" | "waiting_approval"
            | "running" | "interrupted" | "warn" | "acknowledged" | "starting" | "P2" => Tone::Warn,
            "silenced" | "superseded" | "skipped" | "pending" | "debug" | "trace" => Tone::Muted,
            _ => Tone::Plain,
        }
    }
}

/// One table cell.
#[derive(Clone, Debug, PartialEq)]
pub struct Cell {
    pub text: String,
    pub tone: Tone,
}

impl From<String> for Cell {
    fn from(text: String) -> Cell {
        Cell {
            text,
            tone: Tone::Plain,
        }
    }
}

impl From<&str> for Cell {
    fn from(text: &str) -> Cell {
        Cell::from(text.to_string())
    }
}

/// A state word, coloured by what it means.
pub fn state(text: &str) -> Cell {
    Cell {
        text: text.to_string(),
        tone: Tone::of_state(text),
    }
}

/// The narrowest a column is cut to on a narrow terminal.
const MIN_COLUMN: usize = 6;

/// Rows under a header.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Table {
    headers: Vec<&'static str>,
    rows: Vec<Vec<Cell>>,
}

impl Table {
    pub fn new(headers: &[&'static str]) -> Table {
        Table {
            headers: headers.to_vec(),
            rows: Vec::new(),
        }
    }

    pub fn row(&mut self, cells: Vec<Cell>) {
        self.rows.push(cells);
    }

    /// The table as text: columns two spaces apart; `width` (a terminal's) makes the rightmost
    /// columns give way; `color` paints states and the header.
    pub fn render(&self, width: Option<usize>, color: bool) -> String {
        let columns = self.headers.len();
        let mut widths: Vec<usize> = self.headers.iter().map(|h| h.width()).collect();
        for row in &self.rows {
            for (i, cell) in row.iter().enumerate().take(columns) {
                widths[i] = widths[i].max(cell.text.width());
            }
        }
        if let Some(limit) = width {
            fit_columns(&mut widths, &self.headers, limit);
        }
        let mut out = String::new();
        let header: Vec<Cell> = self.headers.iter().map(|h| Cell::from(*h)).collect();
        write_row(&mut out, &header, &widths, color, Some("\x1b[1m"));
        for row in &self.rows {
            write_row(&mut out, row, &widths, color, None);
        }
        out
    }
}

/// Fit `widths` into `limit` columns of terminal: the rightmost columns give way first, cut to
/// their header's width (or [`MIN_COLUMN`]); when even that is too wide, they are left out
/// (`-o json` or a pipe has them all). The first column, the id, stays whole.
fn fit_columns(widths: &mut Vec<usize>, headers: &[&str], limit: usize) {
    if widths.is_empty() {
        return;
    }
    let floor = |i: usize, w: usize| match i {
        0 => w,
        _ => w.min(headers[i].width().max(MIN_COLUMN)),
    };
    let total =
        |widths: &[usize]| widths.iter().sum::<usize>() + 2 * widths.len().saturating_sub(1);
    let floors: Vec<usize> = widths
        .iter()
        .enumerate()
        .map(|(i, w)| floor(i, *w))
        .collect();
    let mut shown = widths.len();
    while shown > 1 && total(&floors[..shown]) > limit {
        shown -= 1;
    }
    widths.truncate(shown);
    let mut excess = total(widths).saturating_sub(limit);
    for i in (1..shown).rev() {
        let cut = excess.min(widths[i] - floors[i]);
        widths[i] -= cut;
        excess -= cut;
    }
    // An id wider than the terminal: cut too, as a last resort.
    widths[0] = widths[0]
        .saturating_sub(excess)
        .max(MIN_COLUMN.min(widths[0]));
}

fn write_row(
    out: &mut String,
    cells: &[Cell],
    widths: &[usize],
    color: bool,
    paint_all: Option<&str>,
) {
    let last = widths.len().saturating_sub(1);
    let mut line = String::new();
    for (i, width) in widths.iter().enumerate() {
        let text = cells.get(i).map(|c| c.text.as_str()).unwrap_or("");
        let text = fit(text, *width);
        let pad = width.saturating_sub(text.width());
        let paint = paint_all
            .or_else(|| cells.get(i).and_then(|c| c.tone.code()))
            .filter(|_| color);
        match paint {
            Some(code) => line.push_str(&format!("{code}{text}\x1b[0m")),
            None => line.push_str(&text),
        }
        if i < last {
            line.push_str(&" ".repeat(pad + 2));
        }
    }
    out.push_str(line.trim_end());
    out.push('\n');
}

/// `text` cut to `width` columns, ending in `…` when cut; newlines become spaces.
fn fit(text: &str, width: usize) -> String {
    let text = text.replace(['\n', '\r', '\t'], " ");
    if text.width() <= width {
        return text;
    }
    let mut out = String::new();
    let mut used = 0;
    for c in text.chars() {
        let w = c.width().unwrap_or(0);
        if used + w + 1 > width {
            break;
        }
        out.push(c);
        used += w;
    }
    out.push('…');
    out
}

/// Where and how a command prints.
#[derive(Clone, Copy, Debug)]
pub struct Output {
    pub format: Format,
    /// The terminal's width, when stdout is one.
    pub width: Option<usize>,
    pub color: bool,
}

impl Output {
    /// For stdout as it is: a terminal (sized, coloured unless `NO_COLOR`) or a pipe (plain).
    pub fn detect(format: Format) -> Output {
        let tty = std::io::stdout().is_terminal();
        let no_color = std::env::var_os("NO_COLOR").is_some_and(|v| !v.is_empty());
        let width = tty
            .then(|| crossterm::terminal::size().ok())
            .flatten()
            .map(|(cols, _)| usize::from(cols).max(40));
        Output {
            format,
            width,
            color: tty && !no_color,
        }
    }

    /// Print a whole answer: `value` as JSON or YAML, else the table `table` makes from it.
    pub fn print(&self, value: &Value, table: impl FnOnce() -> CliResult<Table>) -> CliResult {
        let text = match self.format {
            Format::Json => format!("{}\n", serde_json::to_string_pretty(value)?),
            Format::Yaml => yaml(value),
            Format::Table => table()?.render(self.width, self.color),
        };
        emit(&text)
    }

    /// Print a whole answer whose table form is a few lines of text.
    pub fn print_text(&self, value: &Value, text: impl FnOnce() -> CliResult<String>) -> CliResult {
        match self.format {
            Format::Table => emit(&text()?),
            _ => self.print(value, || Ok(Table::default())),
        }
    }

    /// Print one event of a followed stream: its line of text, or one JSON object per line, or
    /// one YAML document.
    pub fn event(&self, value: &Value, line: impl FnOnce() -> String) -> CliResult {
        let text = match self.format {
            Format::Json => format!("{}\n", serde_json::to_string(value)?),
            Format::Yaml => format!("---\n{}", yaml(value)),
            Format::Table => format!("{}\n", line()),
        };
        emit(&text)
    }

    /// `text` in `tone` when colours are on.
    pub fn paint(&self, text: &str, tone: Tone) -> String {
        match tone.code().filter(|_| self.color) {
            Some(code) => format!("{code}{text}\x1b[0m"),
            None => text.to_string(),
        }
    }
}

/// Write `text` to stdout. A reader that went away (`| head`) ends the command quietly, as
/// Unix tools do.
pub fn emit(text: &str) -> CliResult {
    let mut out = std::io::stdout().lock();
    match out.write_all(text.as_bytes()).and_then(|()| out.flush()) {
        Ok(()) => Ok(()),
        Err(e) if e.kind() == std::io::ErrorKind::BrokenPipe => std::process::exit(0),
        Err(e) => Err(CliError::failure(format!("cannot write to stdout: {e}"))),
    }
}

/// `value` as a YAML document (block style; strings quoted, JSON-style, when plain would be
/// read as something else).
pub fn yaml(value: &Value) -> String {
    let mut out = String::new();
    match value {
        Value::Object(map) if !map.is_empty() => yaml_map(map, 0, &mut out),
        Value::Array(list) if !list.is_empty() => yaml_list(list, 0, &mut out),
        scalar => {
            out.push_str(&yaml_scalar(scalar));
            out.push('\n');
        }
    }
    out
}

fn yaml_map(map: &serde_json::Map<String, Value>, indent: usize, out: &mut String) {
    let pad = " ".repeat(indent);
    for (key, value) in map {
        let key = yaml_string(key);
        match value {
            Value::Object(inner) if !inner.is_empty() => {
                out.push_str(&format!("{pad}{key}:\n"));
                yaml_map(inner, indent + 2, out);
            }
            Value::Array(inner) if !inner.is_empty() => {
                out.push_str(&format!("{pad}{key}:\n"));
                yaml_list(inner, indent + 2, out);
            }
            scalar => out.push_str(&format!("{pad}{key}: {}\n", yaml_scalar(scalar))),
        }
    }
}

fn yaml_list(list: &[Value], indent: usize, out: &mut String) {
    let pad = " ".repeat(indent);
    for item in list {
        let mut inner = String::new();
        match item {
            Value::Object(map) if !map.is_empty() => yaml_map(map, indent + 2, &mut inner),
            Value::Array(items) if !items.is_empty() => yaml_list(items, indent + 2, &mut inner),
            scalar => {
                out.push_str(&format!("{pad}- {}\n", yaml_scalar(scalar)));
                continue;
            }
        }
        // The item's first line starts after `- ` instead of its indentation.
        out.push_str(&pad);
        out.push_str("- ");
        out.push_str(&inner[indent + 2..]);
    }
}

fn yaml_scalar(value: &Value) -> String {
    match value {
        Value::Null => "null".into(),
        Value::Bool(b) => b.to_string(),
        Value::Number(n) => n.to_string(),
        Value::String(s) => yaml_string(s),
        Value::Array(_) => "[]".into(),
        Value::Object(_) => "{}".into(),
    }
}

fn yaml_string(s: &str) -> String {
    let reserved = [
        "true", "false", "yes", "no", "on", "off", "null", "~", "y", "n",
    ];
    let plain = !s.is_empty()
        && !s.starts_with(|c: char| "-?:,[]{}#&*!|>'\"%@` ".contains(c) || c.is_ascii_digit())
        && !s.ends_with([' ', ':'])
        && !s.contains(": ")
        && !s.contains(" #")
        && !s.chars().any(char::is_control)
        && !reserved.contains(&s.to_ascii_lowercase().as_str())
        && s.parse::<f64>().is_err();
    if plain {
        s.to_string()
    } else {
        // A JSON string is a valid YAML double-quoted scalar.
        serde_json::to_string(s).unwrap_or_else(|_| format!("{s:?}"))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn yaml_is_block_style_and_quotes_what_plain_would_misread() {
        let value = serde_json::json!({
            "id": "shop-cart",
            "replicas": {"desired": 4, "ready": 3},
            "tags": ["a", "yes", "12"],
            "pods": [{"name": "p-1", "zone": "z: 1"}, {"name": "p-2", "zone": ""}],
            "empty": [],
            "note": null,
        });
        assert_eq!(
            yaml(&value),
            "empty: []\nid: shop-cart\nnote: null\npods:\n  - name: p-1\n    zone: \"z: 1\"\n  \
             - name: p-2\n    zone: \"\"\nreplicas:\n  desired: 4\n  ready: 3\ntags:\n  - a\n  \
             - \"yes\"\n  - \"12\"\n"
        );
    }

    #[test]
    fn a_piped_table_keeps_every_cell_whole_and_a_terminal_one_fits() {
        let mut table = Table::new(&["APP", "MESSAGE"]);
        table.row(vec![
            "shop-cart".into(),
            "a long message that goes on and on".into(),
        ]);
        table.row(vec![state("failed"), "短".into()]);
        let piped = table.render(None, false);
        assert_eq!(
            piped,
            "APP        MESSAGE\nshop-cart  a long message that goes on and on\nfailed     短\n"
        );
        assert_eq!(Table::default().render(Some(30), true), "\n");
        let narrow = table.render(Some(30), false);
        assert!(narrow.lines().all(|l| l.width() <= 30), "{narrow}");
        assert!(narrow.contains('…'));
        assert!(table.render(None, true).contains("\x1b[31mfailed"));
    }
}
