//! `opsdeck completions SHELL` (clap_complete) and `opsdeck man` (clap_mangen): both made from
//! the same clap definition the binary parses with, so they cannot drift from it.

use clap::{Args, CommandFactory};
use clap_complete::Shell;

use crate::cli::Cli;
use crate::cli::exit::{CliError, CliResult};

#[derive(Args, Debug, Clone)]
pub struct Completions {
    /// bash, zsh, fish or powershell (also elvish).
    pub shell: Shell,
}

impl Completions {
    /// Print the completion script, e.g. `opsdeck completions bash > ~/.local/share/bash-completion/completions/opsdeck`.
    pub fn run(self) -> CliResult {
        let mut command = Cli::command();
        let mut bytes = Vec::new();
        clap_complete::generate(self.shell, &mut command, "opsdeck", &mut bytes);
        crate::cli::output::emit(&String::from_utf8_lossy(&bytes))
    }
}

/// Print the manual page (roff).
pub fn man() -> CliResult {
    let mut bytes = Vec::new();
    clap_mangen::Man::new(Cli::command())
        .render(&mut bytes)
        .map_err(|e| CliError::failure(format!("cannot render the manual: {e}")))?;
    crate::cli::output::emit(&String::from_utf8_lossy(&bytes))
}
