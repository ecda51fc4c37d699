//! `opsdeck ctx` and `opsdeck config`: the console's contexts and config file from the shell.
//! What they do lives in `config::console`; this is their command line.

use clap::{Args, Subcommand};

use super::ConsoleArgs;
use crate::config::console::{self, Settings};

#[derive(Args, Debug, Clone)]
pub struct CtxArgs {
    #[command(subcommand)]
    pub command: Option<CtxCommand>,
    /// `opsdeck ctx --config FILE`: the console's options, as before the command.
    #[command(flatten)]
    pub console: ConsoleArgs,
}

#[derive(Subcommand, Debug, Clone)]
pub enum CtxCommand {
    /// Make NAME the file's current-context (the rest of the file, comments included, is
    /// kept as it is).
    Use { name: String },
}

#[derive(Subcommand, Debug, Clone)]
pub enum ConfigCommand {
    /// Print each console setting in effect, and where it came from (flag, env, context,
    /// file, default); tokens are never shown.
    Show {
        #[command(flatten)]
        console: ConsoleArgs,
    },
    /// Write the commented example config file (to --config FILE, else the default place).
    Init {
        /// Replace a file that is there already.
        #[arg(long)]
        force: bool,
        #[command(flatten)]
        console: ConsoleArgs,
    },
}

impl ConfigCommand {
    /// The subcommand's name, as typed.
    pub fn name(&self) -> &'static str {
        match self {
            ConfigCommand::Show { .. } => "show",
            ConfigCommand::Init { .. } => "init",
        }
    }

    /// The console's options given after the command.
    pub fn console(&self) -> &ConsoleArgs {
        match self {
            ConfigCommand::Show { console } | ConfigCommand::Init { console, .. } => console,
        }
    }
}

/// `opsdeck ctx [use NAME]`, printing to stdout.
pub fn run_ctx(args: &CtxArgs, settings: &Settings) -> anyhow::Result<()> {
    match &args.command {
        None => print!("{}", settings.list_contexts()),
        Some(CtxCommand::Use { name }) => {
            if settings.file.is_none() {
                anyhow::bail!(
                    "no config file at {}: `opsdeck config init` writes one",
                    settings.config.value.display()
                );
            }
            console::use_context(&settings.config.value, name)?;
            println!("current context: {name}");
        }
    }
    Ok(())
}

/// `opsdeck config show|init`, printing to stdout. `init` needs only the path, so a broken
/// file can still be replaced with `--force`.
pub fn run_config(
    command: &ConfigCommand,
    path: &std::path::Path,
    settings: impl FnOnce() -> anyhow::Result<Settings>,
) -> anyhow::Result<()> {
    match command {
        ConfigCommand::Show { .. } => print!("{}", settings()?.show()),
        ConfigCommand::Init { force, .. } => {
            console::init(path, *force)?;
            println!("wrote {}", path.display());
        }
    }
    Ok(())
}
