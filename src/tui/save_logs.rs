//! Carries out `Effect::SaveLogs`: writes the lines to a new file in the current directory,
//! or in the state directory when the current one is not writable. Runs off the UI loop.

use std::fs::OpenOptions;
use std::io::{BufWriter, Write};
use std::path::{Path, PathBuf};

use crate::app::logs::SavedLogs;

/// Write `lines` to `file_name`, never overwriting an existing file. The error says where
/// both attempts failed.
pub fn write(file_name: &str, lines: &[String]) -> Result<SavedLogs, String> {
    let here = PathBuf::from(file_name);
    let first = match write_new(&here, lines) {
        Ok(()) => return Ok(saved(&here, lines)),
        Err(e) => e,
    };
    let dir = super::logging::log_dir();
    let there = dir.join(file_name);
    std::fs::create_dir_all(&dir)
        .and_then(|()| write_new(&there, lines))
        .map(|()| saved(&there, lines))
        .map_err(|e| format!("{}: {first}; {}: {e}", here.display(), there.display()))
}

fn write_new(path: &Path, lines: &[String]) -> std::io::Result<()> {
    let file = OpenOptions::new().write(true).create_new(true).open(path)?;
    let mut out = BufWriter::new(file);
    for line in lines {
        out.write_all(line.as_bytes())?;
        out.write_all(b"\n")?;
    }
    out.flush()
}

fn saved(path: &Path, lines: &[String]) -> SavedLogs {
    let shown = std::fs::canonicalize(path).unwrap_or_else(|_| path.to_path_buf());
    SavedLogs {
        path: shown.display().to_string(),
        lines: lines.len(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn writes_a_new_file_and_never_overwrites() {
        let dir = std::env::temp_dir().join(format!("opsdeck-save-{}", std::process::id()));
        let _ = std::fs::create_dir_all(&dir);
        let path = dir.join("x.log");
        let _ = std::fs::remove_file(&path);
        let lines = vec!["a".to_string(), "购物车 b".to_string()];
        assert!(write_new(&path, &lines).is_ok());
        assert_eq!(
            std::fs::read_to_string(&path).ok().as_deref(),
            Some("a\n购物车 b\n")
        );
        assert!(write_new(&path, &lines).is_err(), "overwrote a file");
        let _ = std::fs::remove_dir_all(&dir);
    }
}
