//! Tokens on the command line: `opsdeck token new` makes one for the gateway's tokens file, and
//! [`console_token`] finds the console's own (a file, a command, or `OPSDECK_TOKEN`, never a
//! flag's value, which any user could read in `ps`).

use std::path::Path;

use anyhow::{Context, bail};
use clap::Subcommand;

use crate::gateway::tokens::{check_name, entry_for, generate};
use crate::protocol::Role;

use super::ConnectionArgs;

#[derive(Subcommand, Debug, Clone)]
pub enum TokenCommand {
    /// Make a token: print it once, and the `[[token]]` entry (its SHA-256, never the token) to
    /// add to the file `opsdeck serve --tokens FILE` reads.
    New {
        /// Who holds it; the gateway records this name on every change made with it.
        #[arg(long)]
        name: String,
        /// viewer (read, stream), operator (also scale, roll back, ack, silence, runs) or
        /// admin (also scenarios).
        #[arg(long, value_parser = clap::builder::PossibleValuesParser::new(["viewer", "operator", "admin"]))]
        role: String,
    },
}

/// Run `opsdeck token ...`, printing to stdout.
pub fn run_token(command: &TokenCommand) -> anyhow::Result<()> {
    match command {
        TokenCommand::New { name, role } => {
            print!("{}", new_token(name, role)?);
            Ok(())
        }
    }
}

/// What `opsdeck token new` prints: the token, then the entry for the tokens file.
fn new_token(name: &str, role: &str) -> anyhow::Result<String> {
    check_name(name).map_err(anyhow::Error::msg)?;
    let role = Role::parse(role).context("role must be viewer, operator or admin")?;
    let token = generate()?;
    Ok(format!(
        "# The token for {name} ({role}), shown this once: give it to {name} and keep no copy.\n\
         # The console reads it from OPSDECK_TOKEN, --token-file or --token-command.\n\
         {token}\n\
         \n\
         # Add these lines to the gateway's tokens file (opsdeck serve --tokens FILE) and\n\
         # restart the gateway:\n\
         {}",
        entry_for(name, role, &token)
    ))
}

/// The console's token: from `--token-file`, else `--token-command`, else `OPSDECK_TOKEN`;
/// `None` when none is given (a gateway without tokens needs none). Errors never quote it.
pub fn console_token(args: &ConnectionArgs) -> anyhow::Result<Option<String>> {
    if let Some(path) = &args.token_file {
        return token_from_file(path).map(Some);
    }
    if let Some(command) = &args.token_command {
        return token_from_command(command).map(Some);
    }
    match std::env::var("OPSDECK_TOKEN") {
        Ok(token) if !token.trim().is_empty() => Ok(Some(token.trim().to_string())),
        _ => Ok(None),
    }
}

pub(crate) fn token_from_file(path: &Path) -> anyhow::Result<String> {
    let text = std::fs::read_to_string(path)
        .with_context(|| format!("cannot read the token file {}", path.display()))?;
    first_line(&text).with_context(|| format!("the token file {} is empty", path.display()))
}

pub(crate) fn token_from_command(command: &str) -> anyhow::Result<String> {
    let output = std::process::Command::new("sh")
        .arg("-c")
        .arg(command)
        .stdin(std::process::Stdio::null())
        .stderr(std::process::Stdio::inherit())
        .output()
        .with_context(|| format!("cannot run the token command {command:?}"))?;
    if !output.status.success() {
        bail!("the token command {command:?} failed ({})", output.status);
    }
    let text = String::from_utf8(output.stdout)
        .ok()
        .with_context(|| format!("the token command {command:?} printed something not UTF-8"))?;
    first_line(&text).with_context(|| format!("the token command {command:?} printed nothing"))
}

/// The first line that is not blank, trimmed.
fn first_line(text: &str) -> Option<String> {
    text.lines()
        .map(str::trim)
        .find(|l| !l.is_empty())
        .map(str::to_string)
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;
    use crate::gateway::Tokens;

    #[test]
    fn a_new_token_and_its_entry_are_accepted_by_a_tokens_file() {
        let out = new_token("li.wei", "operator").unwrap();
        let token = out
            .lines()
            .find(|l| l.starts_with(crate::gateway::tokens::TOKEN_PREFIX))
            .unwrap();
        let entry = &out[out.find("[[token]]").unwrap()..];
        let tokens = Tokens::parse(entry).unwrap();
        assert_eq!(tokens.verify(token), Some(("li.wei", Role::Operator)));
        assert!(new_token("", "viewer").is_err());
        assert!(new_token("a", "root").is_err());
    }

    #[test]
    fn the_token_command_gives_its_first_line_and_a_failure_is_an_error() {
        assert_eq!(
            token_from_command("printf '\\n  tok123 \\nmore'").unwrap(),
            "tok123"
        );
        assert!(token_from_command("exit 3").is_err());
        assert!(token_from_command("true").is_err());
    }
}
