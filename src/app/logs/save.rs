//! Saving the filtered buffer: the text of each line and the file name. The file itself is
//! written by the terminal side when it carries out `Effect::SaveLogs`.

use chrono::{DateTime, SecondsFormat, Utc};

use super::buffer::{LogEntry, LogItem};
use super::view::LogView;

/// One line as saved: `2025-03-14T03:12:45.123Z shop-cart shop-cart-7d9f ERROR msg k=v`.
/// Timestamps are always UTC in files, whatever the screen shows.
pub fn format_entry(e: &LogEntry) -> String {
    let mut out = format!(
        "{} {} {} {} {}",
        e.ts.to_rfc3339_opts(SecondsFormat::Millis, true),
        e.app,
        e.pod,
        e.level.as_str().to_uppercase(),
        e.message
    );
    for (k, v) in &e.fields {
        out.push(' ');
        out.push_str(k);
        out.push('=');
        out.push_str(v);
    }
    out
}

/// Every shown item (lines and loss markers) as text, oldest first.
pub fn shown_text(view: &LogView) -> Vec<String> {
    view.shown_items()
        .map(|item| match item {
            LogItem::Line(e) => format_entry(e),
            LogItem::Marker(m) => m.describe(),
        })
        .collect()
}

/// `opsdeck-logs-<app>-<UTC timestamp>.log`; `all` for every app, `<n>-apps` for several.
pub fn save_file_name(apps: &[impl AsRef<str>], now: DateTime<Utc>) -> String {
    let scope = match apps {
        [] => "all".to_string(),
        [one] => one
            .as_ref()
            .chars()
            .map(|c| {
                if c.is_ascii_alphanumeric() || c == '-' || c == '_' || c == '.' {
                    c
                } else {
                    '_'
                }
            })
            .collect(),
        many => format!("{}-apps", many.len()),
    };
    format!("opsdeck-logs-{scope}-{}.log", now.format("%Y%m%dT%H%M%SZ"))
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;

    #[test]
    fn file_names_are_safe_and_dated() {
        let now = Utc
            .with_ymd_and_hms(2025, 3, 14, 3, 12, 45)
            .single()
            .unwrap_or_default();
        assert_eq!(
            save_file_name(&["shop-cart"], now),
            "opsdeck-logs-shop-cart-20250314T031245Z.log"
        );
        assert_eq!(
            save_file_name(&["../x y"], now),
            "opsdeck-logs-.._x_y-20250314T031245Z.log"
        );
        assert_eq!(
            save_file_name(&[] as &[&str], now),
            "opsdeck-logs-all-20250314T031245Z.log"
        );
    }
}
