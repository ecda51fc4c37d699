//! Where an effective setting came from: a flag, the environment, the chosen context, the
//! file's `[defaults]`, or the built-in default. `opsdeck config show` prints it.

use std::fmt;

use clap::ArgMatches;
use clap::parser::ValueSource;

/// The layer that supplied a setting, highest first.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Origin {
    /// A command-line flag, by its name (`--url`).
    Flag(String),
    /// An environment variable, by its name.
    Env(String),
    /// The context of this name in the console file.
    Context(String),
    /// The console file's `[defaults]` (or, for the context itself, `current-context`).
    File,
    /// Built in.
    Default,
}

impl fmt::Display for Origin {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Origin::Flag(name) => write!(f, "flag {name}"),
            Origin::Env(name) => write!(f, "env {name}"),
            Origin::Context(name) => write!(f, "context {name}"),
            Origin::File => f.write_str("file"),
            Origin::Default => f.write_str("default"),
        }
    }
}

/// A value and where it came from.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Setting<T> {
    pub value: T,
    pub origin: Origin,
}

impl<T> Setting<T> {
    pub fn new(value: T, origin: Origin) -> Self {
        Setting { value, origin }
    }

    pub fn default(value: T) -> Self {
        Setting::new(value, Origin::Default)
    }
}

/// Which of the flag `--long` (id `id`) or its variable `env` supplied the parsed value, if
/// either did (clap's `env =` merges the two; its value source tells them apart). Over several
/// matches (a subcommand's and the top level's, as `opsdeck --url X config show` merges them),
/// a flag in any of them beats a variable in any, as
/// [`crate::cli::ConnectionArgs::or`] takes the flag's value. Matches that do not define `id`
/// are passed over.
pub fn flag_or_env(matches: &[&ArgMatches], id: &str, long: &str, env: &str) -> Option<Origin> {
    let sources: Vec<ValueSource> = matches
        .iter()
        .filter(|m| m.ids().any(|i| i.as_str() == id))
        .filter_map(|m| m.value_source(id))
        .collect();
    if sources.contains(&ValueSource::CommandLine) {
        Some(Origin::Flag(format!("--{long}")))
    } else if sources.contains(&ValueSource::EnvVariable) {
        Some(Origin::Env(env.to_string()))
    } else {
        None
    }
}

/// The ids of the arguments given on the command line (not by their variable) in `matches`
/// and every subcommand's under it.
pub fn flags_given(matches: &ArgMatches) -> Vec<String> {
    let mut ids: Vec<String> = matches
        .ids()
        .filter(|id| matches.value_source(id.as_str()) == Some(ValueSource::CommandLine))
        .map(|id| id.as_str().to_string())
        .collect();
    if let Some((_, sub)) = matches.subcommand() {
        ids.extend(flags_given(sub));
    }
    ids.sort_unstable();
    ids.dedup();
    ids
}

/// Whether the flag `id` was given on the command line or by its variable (not a default).
pub fn set_by_user(matches: &ArgMatches, id: &str) -> bool {
    matches!(
        matches.value_source(id),
        Some(ValueSource::CommandLine | ValueSource::EnvVariable)
    )
}
