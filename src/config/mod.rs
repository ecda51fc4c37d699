//! Configuration files, contexts, precedence and keymap overrides.
//!
//! - [`console`]: the console's file (`$XDG_CONFIG_HOME/opsdeck/config.toml`), its contexts,
//!   and the effective settings (flag > environment > context > file defaults).
//! - [`gateway`]: the gateway's file (`opsdeck serve --config gateway.toml`), a key per flag.
//! - [`keys`]: keymap overrides by action name, validated against the keymap's actions.
//! - [`provenance`]: where each effective setting came from, for `opsdeck config show`.
//!
//! Every problem in a file is a [`FileError`]: the file, the line, the key and what is wrong.

pub mod console;
pub mod gateway;
pub mod keys;
pub mod provenance;

use std::fmt;
use std::path::{Path, PathBuf};

/// What is wrong in a configuration file, and where.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct FileError {
    pub file: PathBuf,
    /// 1-based; none when the problem is the file as a whole (it cannot be read).
    pub line: Option<usize>,
    /// The dotted key (`contexts.prod.url`), when one is to blame.
    pub key: Option<String>,
    pub problem: String,
}

impl fmt::Display for FileError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.file.display())?;
        if let Some(line) = self.line {
            write!(f, ":{line}")?;
        }
        if let Some(key) = &self.key {
            write!(f, ": key `{key}`")?;
        }
        write!(f, ": {}", self.problem)
    }
}

impl std::error::Error for FileError {}

/// A parsed file's text, to point errors at lines and keys.
pub(crate) struct Source<'a> {
    pub file: &'a Path,
    pub text: &'a str,
}

impl Source<'_> {
    /// An error at `key` (a dotted path), on the line that sets it if there is one.
    pub fn at_key(&self, key: &str, problem: impl Into<String>) -> FileError {
        FileError {
            file: self.file.to_path_buf(),
            line: line_of_key(self.text, key),
            key: Some(key.to_string()),
            problem: problem.into(),
        }
    }

    /// A TOML or serde error, placed by its span; an unknown key is named, with the closest
    /// known one.
    pub fn toml_error(&self, err: &toml::de::Error) -> FileError {
        let line = err
            .span()
            .map(|span| line_at(self.text, span.start.min(self.text.len())));
        let key = line.and_then(|l| key_on_line(self.text, l));
        FileError {
            file: self.file.to_path_buf(),
            line,
            key,
            problem: explain(err.message()),
        }
    }

    /// A problem with the file as a whole.
    pub fn whole(file: &Path, problem: impl Into<String>) -> FileError {
        FileError {
            file: file.to_path_buf(),
            line: None,
            key: None,
            problem: problem.into(),
        }
    }
}

/// serde's "unknown field `x`, expected one of `a`, `b`, …" made short: the key, and the
/// closest known one. Other messages as they are, on one line.
fn explain(message: &str) -> String {
    let message = message.trim().replace('\n', " ");
    let unknown = ["unknown field `", "unknown variant `"]
        .iter()
        .find_map(|p| message.strip_prefix(p).map(|rest| (*p, rest)));
    let Some((prefix, rest)) = unknown else {
        return message;
    };
    let Some((name, expected)) = rest.split_once('`') else {
        return message;
    };
    let known: Vec<&str> = expected.split('`').skip(1).step_by(2).collect();
    let what = if prefix.contains("field") {
        "unknown key"
    } else {
        "unknown value"
    };
    match crate::app::suggest(name, known.iter().copied()) {
        Some(s) => format!("{what} `{name}`; did you mean `{s}`?"),
        None if known.is_empty() => format!("{what} `{name}`"),
        None => format!("{what} `{name}`; expected one of {}", known.join(", ")),
    }
}

/// The 1-based line holding byte `offset`.
fn line_at(text: &str, offset: usize) -> usize {
    text[..offset].matches('\n').count() + 1
}

/// The table a `[header]` or `[[header]]` line opens, if it is one.
fn header(line: &str) -> Option<String> {
    let t = line.trim();
    let inner = t.strip_prefix('[')?;
    let end = inner.find(']')?;
    let name = inner[..end].trim_start_matches('[').trim();
    Some(name.replace([' ', '"'], ""))
}

/// The key a `key = value` line sets, if it is one.
fn assigned(line: &str) -> Option<String> {
    let t = line.trim();
    if t.starts_with('#') || t.starts_with('[') {
        return None;
    }
    let (key, _) = t.split_once('=')?;
    Some(key.trim().replace([' ', '"'], ""))
}

/// The dotted key set (or the table opened) on `line`, with its table's name in front.
fn key_on_line(text: &str, line: usize) -> Option<String> {
    let mut table = String::new();
    for (i, l) in text.lines().enumerate() {
        if let Some(h) = header(l) {
            if i + 1 == line {
                return Some(h);
            }
            table = h;
            continue;
        }
        if i + 1 == line {
            return assigned(l).map(|k| join(&table, &k));
        }
    }
    None
}

/// The line that sets the dotted `key` (or opens it as a table), if any.
fn line_of_key(text: &str, key: &str) -> Option<usize> {
    let mut table = String::new();
    for (i, l) in text.lines().enumerate() {
        if let Some(h) = header(l) {
            if h == key {
                return Some(i + 1);
            }
            table = h;
        } else if let Some(k) = assigned(l)
            && join(&table, &k) == key
        {
            return Some(i + 1);
        }
    }
    None
}

fn join(table: &str, key: &str) -> String {
    if table.is_empty() {
        key.to_string()
    } else {
        format!("{table}.{key}")
    }
}

/// `~/x` as `$HOME/x`; a relative path as relative to `base` (the folder of the file that
/// names it); others as they are.
pub(crate) fn expand_path(path: &Path, base: Option<&Path>) -> PathBuf {
    if let Ok(rest) = path.strip_prefix("~")
        && let Some(home) = std::env::var_os("HOME").filter(|h| !h.is_empty())
    {
        return PathBuf::from(home).join(rest);
    }
    match base {
        Some(base) if path.is_relative() => base.join(path),
        _ => path.to_path_buf(),
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[test]
    fn keys_and_lines_are_found_under_their_tables() {
        let text = "a = 1\n[contexts.prod]\nurl = \"x\"\n# c\n[keys]\nquit = \"q\"\n";
        assert_eq!(line_of_key(text, "contexts.prod.url"), Some(3));
        assert_eq!(line_of_key(text, "keys.quit"), Some(6));
        assert_eq!(line_of_key(text, "keys"), Some(5));
        assert_eq!(line_of_key(text, "nope"), None);
        assert_eq!(key_on_line(text, 3).as_deref(), Some("contexts.prod.url"));
        assert_eq!(key_on_line(text, 1).as_deref(), Some("a"));
    }

    #[test]
    fn unknown_keys_are_named_with_the_closest_one() {
        assert_eq!(
            explain("unknown field `replay-bufer`, expected one of `listen`, `replay-buffer`"),
            "unknown key `replay-bufer`; did you mean `replay-buffer`?"
        );
        assert_eq!(
            explain("unknown field `zzz`, expected `listen` or `sim`"),
            "unknown key `zzz`; expected one of listen, sim"
        );
    }
}
