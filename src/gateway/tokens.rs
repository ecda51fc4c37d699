//! Bearer tokens (`opsdeck serve --tokens FILE`): the file holds, per token, a name, a role and
//! the SHA-256 of the token, never the token itself. A token is 256 random bits, so a hash is
//! as good as a slow password hash here (nobody can guess 2^256 preimages) and costs one
//! SHA-256 per request instead of Argon2's deliberate milliseconds. docs/security.md says more.
//!
//! ```toml
//! [[token]]
//! name = "li.wei"
//! role = "operator"
//! sha256 = "9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08"
//! ```

use std::path::Path;

use ring::rand::SecureRandom;
use serde::Deserialize;
use subtle::ConstantTimeEq;

use crate::protocol::Role;

/// What every token starts with, so a leaked one is recognisable (and greppable) as ours.
pub const TOKEN_PREFIX: &str = "opsdeck_";

/// Longest token name, in bytes (it becomes the actor recorded on every change).
const MAX_NAME: usize = 64;

/// The tokens a gateway accepts.
#[derive(Clone, Default)]
pub struct Tokens {
    entries: Vec<Entry>,
}

#[derive(Clone)]
struct Entry {
    name: String,
    role: Role,
    sha256: [u8; 32],
}

/// Why a tokens file was refused. It never quotes a hash or a token.
#[derive(Debug, thiserror::Error)]
pub enum TokensError {
    #[error("cannot read tokens file {path}: {err}")]
    Read { path: String, err: std::io::Error },
    #[error("tokens file is not valid TOML: {0}")]
    Syntax(String),
    #[error("token #{index} ({name:?}): {problem}")]
    Entry {
        index: usize,
        name: String,
        problem: String,
    },
    #[error("the tokens file has no [[token]]: no one could connect")]
    Empty,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct File {
    #[serde(default)]
    token: Vec<RawEntry>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawEntry {
    name: String,
    role: String,
    sha256: String,
}

impl Tokens {
    /// Read and check a tokens file.
    pub fn load(path: &Path) -> Result<Tokens, TokensError> {
        let text = std::fs::read_to_string(path).map_err(|err| TokensError::Read {
            path: path.display().to_string(),
            err,
        })?;
        Tokens::parse(&text)
    }

    /// Parse the text of a tokens file: every entry needs a printable name (unique), a known
    /// role and 64 hex digits of SHA-256.
    pub fn parse(text: &str) -> Result<Tokens, TokensError> {
        let file: File =
            toml::from_str(text).map_err(|e| TokensError::Syntax(e.message().to_string()))?;
        if file.token.is_empty() {
            return Err(TokensError::Empty);
        }
        let mut entries: Vec<Entry> = Vec::with_capacity(file.token.len());
        for (i, raw) in file.token.into_iter().enumerate() {
            let refuse = |problem: String| TokensError::Entry {
                index: i + 1,
                name: raw.name.clone(),
                problem,
            };
            check_name(&raw.name).map_err(refuse)?;
            let role = Role::parse(&raw.role).ok_or_else(|| {
                refuse(format!(
                    "role must be viewer, operator or admin, got {:?}",
                    raw.role
                ))
            })?;
            let sha256 = parse_hex(&raw.sha256).ok_or_else(|| {
                refuse("sha256 must be 64 hex digits (what `opsdeck token new` prints)".into())
            })?;
            if entries.iter().any(|e| e.name == raw.name) {
                return Err(refuse("another token has this name".into()));
            }
            if entries.iter().any(|e| e.sha256 == sha256) {
                return Err(refuse("another token has the same hash".into()));
            }
            entries.push(Entry {
                name: raw.name,
                role,
                sha256,
            });
        }
        Ok(Tokens { entries })
    }

    /// One token, held in memory only (the embedded demo's).
    pub fn single(name: &str, role: Role, token: &str) -> Tokens {
        Tokens {
            entries: vec![Entry {
                name: name.to_string(),
                role,
                sha256: sha256(token),
            }],
        }
    }

    /// The name and role of `token`, if it is one of ours. The presented token is hashed and
    /// the hash compared with every entry in constant time, so neither the time taken nor an
    /// early exit tells how much of a guess was right.
    pub fn verify(&self, token: &str) -> Option<(&str, Role)> {
        let presented = sha256(token);
        let mut found = None;
        for entry in &self.entries {
            if bool::from(entry.sha256.ct_eq(&presented)) {
                found = Some((entry.name.as_str(), entry.role));
            }
        }
        found
    }

    pub fn len(&self) -> usize {
        self.entries.len()
    }

    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }
}

impl std::fmt::Debug for Tokens {
    /// Names and roles only: hashes stay out of logs too.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_list()
            .entries(self.entries.iter().map(|e| (&e.name, e.role)))
            .finish()
    }
}

/// A token name is what the gateway records as the actor: 1 to 64 bytes, no control characters.
pub fn check_name(name: &str) -> Result<(), String> {
    if name.trim().is_empty() || name.len() > MAX_NAME || name.chars().any(char::is_control) {
        return Err(format!(
            "name must be 1 to {MAX_NAME} bytes of printable text"
        ));
    }
    Ok(())
}

/// A new token: [`TOKEN_PREFIX`] and 256 bits from the operating system's CSPRNG, in hex.
pub fn generate() -> Result<String, TokensError> {
    let mut bytes = [0u8; 32];
    ring::rand::SystemRandom::new()
        .fill(&mut bytes)
        .map_err(|_| TokensError::Syntax("the system random generator failed".into()))?;
    Ok(format!("{TOKEN_PREFIX}{}", to_hex(&bytes)))
}

/// The `[[token]]` entry for `token`, ready to append to a tokens file.
pub fn entry_for(name: &str, role: Role, token: &str) -> String {
    format!(
        "[[token]]\nname = {}\nrole = \"{}\"\nsha256 = \"{}\"\n",
        toml_string(name),
        role.as_str(),
        to_hex(&sha256(token))
    )
}

fn toml_string(text: &str) -> String {
    serde_json::to_string(text).unwrap_or_else(|_| "\"\"".into())
}

fn sha256(token: &str) -> [u8; 32] {
    let digest = ring::digest::digest(&ring::digest::SHA256, token.as_bytes());
    let mut out = [0u8; 32];
    out.copy_from_slice(digest.as_ref());
    out
}

fn to_hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

fn parse_hex(text: &str) -> Option<[u8; 32]> {
    let text = text.trim().as_bytes();
    if text.len() != 64 {
        return None;
    }
    let mut out = [0u8; 32];
    for (i, pair) in text.chunks(2).enumerate() {
        let pair = std::str::from_utf8(pair).ok()?;
        out[i] = u8::from_str_radix(pair, 16).ok()?;
    }
    Some(out)
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[test]
    fn a_generated_token_round_trips_through_its_entry() {
        let token = generate().unwrap();
        assert!(token.starts_with(TOKEN_PREFIX));
        assert_eq!(token.len(), TOKEN_PREFIX.len() + 64);
        assert_ne!(token, generate().unwrap());
        let file = entry_for("li.wei", Role::Operator, &token);
        assert!(!file.contains(&token), "the entry holds the hash only");
        let tokens = Tokens::parse(&file).unwrap();
        assert_eq!(tokens.verify(&token), Some(("li.wei", Role::Operator)));
        assert_eq!(tokens.verify(&token[..token.len() - 1]), None);
        assert_eq!(tokens.verify(""), None);
    }

    #[test]
    fn bad_entries_are_refused_with_what_is_wrong() {
        let hash = "a".repeat(64);
        let entry = |name: &str, role: &str, sha: &str| {
            format!("[[token]]\nname = \"{name}\"\nrole = \"{role}\"\nsha256 = \"{sha}\"\n")
        };
        let err = |text: &str| Tokens::parse(text).unwrap_err().to_string();
        assert!(err(&entry("a", "root", &hash)).contains("role must be"));
        assert!(err(&entry("a", "viewer", "abc")).contains("64 hex digits"));
        assert!(err(&entry("", "viewer", &hash)).contains("name must be"));
        let twice = entry("a", "viewer", &hash) + &entry("a", "admin", &"b".repeat(64));
        assert!(err(&twice).contains("another token has this name"));
        assert!(err("").contains("no [[token]]"));
        assert!(err("[[token]]\nname = \"a\"\n").contains("TOML"));
    }
}
