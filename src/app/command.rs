//! Command mode's language: the `:` commands, parsed from a typed line into a
//! [`PromptCommand`], with suggestions for typos, completion of command names, app ids and
//! theme names, and the one function that carries a command out.
//!
//! Parsing and completion are pure functions of the text (and, for completion, of what the
//! state knows), so they are unit-tested here without a terminal.

use std::fmt;

use crate::app::core::Navigate;
use crate::app::core::effect::Effect;
use crate::app::dialogs::scale::ScaleDialog;
use crate::app::navigate::{navigate, select_in_overview};
use crate::app::state::{Dialog, State};

/// A command typed after `:`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum PromptCommand {
    /// `:apps` — the overview.
    Apps,
    /// `:app NAME`
    App(String),
    /// `:releases NAME` — the app's release history.
    Releases(String),
    /// `:logs [NAME…]` — none means every app.
    Logs(Vec<String>),
    Alerts,
    Events,
    /// `:scale NAME N` — opens the scale dialog pre-filled; never scales by itself.
    Scale {
        app: String,
        replicas: u32,
    },
    /// `:rollback NAME [RELEASE]` — opens the rollback dialog.
    Rollback {
        app: String,
        release: Option<String>,
    },
    /// `:theme NAME`
    Theme(String),
    /// `:ctx [NAME]` — switch to the config file's context NAME (reconnecting, and starting
    /// afresh); without a name, say which contexts there are.
    Ctx(Option<String>),
    /// `:runbooks` — every runbook.
    Runbooks,
    /// `:runs` — every run, newest first.
    Runs,
    /// `:runbook NAME` — the runbook's parameter form.
    Runbook(String),
    Quit,
    Help,
}

/// What a command's arguments are, for parsing and completion.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Args {
    None,
    /// Exactly one app id.
    App,
    /// Any number of app ids.
    Apps,
    /// An app id and a replica count.
    AppCount,
    /// An app id and an optional release id.
    AppRelease,
    /// A theme name.
    Theme,
    /// A runbook id.
    Runbook,
    /// A context of the config file, optional.
    Context,
}

/// One `:` command: its name, other names, arguments and help text.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct CommandSpec {
    pub name: &'static str,
    pub aliases: &'static [&'static str],
    pub args: Args,
    pub usage: &'static str,
    pub desc: &'static str,
}

/// Every `:` command, in the order completion lists them.
pub const COMMANDS: [CommandSpec; 15] = [
    CommandSpec {
        name: "apps",
        aliases: &["overview"],
        args: Args::None,
        usage: ":apps",
        desc: "the overview of every app",
    },
    CommandSpec {
        name: "app",
        aliases: &[],
        args: Args::App,
        usage: ":app NAME",
        desc: "one app",
    },
    CommandSpec {
        name: "releases",
        aliases: &[],
        args: Args::App,
        usage: ":releases NAME",
        desc: "an app's releases, newest first",
    },
    CommandSpec {
        name: "logs",
        aliases: &[],
        args: Args::Apps,
        usage: ":logs [NAME…]",
        desc: "logs of some apps, or of all",
    },
    CommandSpec {
        name: "alerts",
        aliases: &[],
        args: Args::None,
        usage: ":alerts",
        desc: "firing, acknowledged, silenced and resolved alerts",
    },
    CommandSpec {
        name: "events",
        aliases: &[],
        args: Args::None,
        usage: ":events",
        desc: "the platform's event timeline",
    },
    CommandSpec {
        name: "scale",
        aliases: &[],
        args: Args::AppCount,
        usage: ":scale NAME N",
        desc: "open the scale dialog with N replicas",
    },
    CommandSpec {
        name: "rollback",
        aliases: &[],
        args: Args::AppRelease,
        usage: ":rollback NAME [RELEASE]",
        desc: "open the rollback dialog",
    },
    CommandSpec {
        name: "runbooks",
        aliases: &[],
        args: Args::None,
        usage: ":runbooks",
        desc: "every runbook and the alerts that point at it",
    },
    CommandSpec {
        name: "runbook",
        aliases: &[],
        args: Args::Runbook,
        usage: ":runbook NAME",
        desc: "a runbook's parameters, dry run first",
    },
    CommandSpec {
        name: "runs",
        aliases: &[],
        args: Args::None,
        usage: ":runs",
        desc: "runs of runbooks, newest first",
    },
    CommandSpec {
        name: "theme",
        aliases: &[],
        args: Args::Theme,
        usage: ":theme NAME",
        desc: "switch the colour theme",
    },
    CommandSpec {
        name: "ctx",
        aliases: &["context"],
        args: Args::Context,
        usage: ":ctx [NAME]",
        desc: "switch to another context of the config file (reconnects)",
    },
    CommandSpec {
        name: "quit",
        aliases: &["q", "q!", "qa", "exit"],
        args: Args::None,
        usage: ":quit",
        desc: "leave opsdeck",
    },
    CommandSpec {
        name: "help",
        aliases: &["h", "?"],
        args: Args::None,
        usage: ":help",
        desc: "show the keys",
    },
];

/// Why a typed line is not a command.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum CommandError {
    Empty,
    Unknown {
        name: String,
        suggestion: Option<&'static str>,
    },
    /// Wrong arguments: what is wrong, and the usage line.
    Usage {
        problem: String,
        usage: &'static str,
    },
}

impl fmt::Display for CommandError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            CommandError::Empty => f.write_str("type a command; Tab lists them"),
            CommandError::Unknown {
                name,
                suggestion: Some(s),
            } => write!(f, "unknown command :{name} — did you mean :{s}?"),
            CommandError::Unknown {
                name,
                suggestion: None,
            } => write!(f, "unknown command :{name} — Tab lists the commands"),
            CommandError::Usage { problem, usage } => write!(f, "{problem} — usage: {usage}"),
        }
    }
}

impl std::error::Error for CommandError {}

/// The command called `name` (or one of its aliases).
pub fn find_command(name: &str) -> Option<&'static CommandSpec> {
    let name = name.to_lowercase();
    COMMANDS
        .iter()
        .find(|c| c.name == name || c.aliases.contains(&name.as_str()))
}

/// Parse a command line (with or without its leading `:`).
pub fn parse(line: &str) -> Result<PromptCommand, CommandError> {
    let line = line.trim();
    let line = line.strip_prefix(':').unwrap_or(line);
    let mut words = line.split_whitespace();
    let Some(name) = words.next() else {
        return Err(CommandError::Empty);
    };
    let Some(spec) = find_command(name) else {
        return Err(CommandError::Unknown {
            name: name.to_string(),
            suggestion: suggest(name, COMMANDS.iter().map(|c| c.name)),
        });
    };
    let args: Vec<&str> = words.collect();
    let usage = |problem: String| CommandError::Usage {
        problem,
        usage: spec.usage,
    };
    let at_most = |n: usize| -> Result<(), CommandError> {
        match args.get(n) {
            Some(extra) => Err(usage(format!("unexpected {extra:?}"))),
            None => Ok(()),
        }
    };
    let first = |what: &str| -> Result<String, CommandError> {
        args.first()
            .map(|s| s.to_string())
            .ok_or_else(|| usage(format!("missing {what}")))
    };
    let cmd = match spec.name {
        "apps" => PromptCommand::Apps,
        "alerts" => PromptCommand::Alerts,
        "events" => PromptCommand::Events,
        "quit" => PromptCommand::Quit,
        "help" => PromptCommand::Help,
        "runbooks" => PromptCommand::Runbooks,
        "runs" => PromptCommand::Runs,
        "runbook" => {
            at_most(1)?;
            PromptCommand::Runbook(first("runbook name")?)
        }
        "app" => {
            at_most(1)?;
            PromptCommand::App(first("app name")?)
        }
        "releases" => {
            at_most(1)?;
            PromptCommand::Releases(first("app name")?)
        }
        "logs" => PromptCommand::Logs(args.iter().map(|s| s.to_string()).collect()),
        "scale" => {
            at_most(2)?;
            let app = first("app name")?;
            let count = args
                .get(1)
                .ok_or_else(|| usage("missing replica count".into()))?;
            let replicas = count.parse::<u32>().map_err(|_| {
                usage(format!(
                    "replica count must be a whole number, got {count:?}"
                ))
            })?;
            PromptCommand::Scale { app, replicas }
        }
        "rollback" => {
            at_most(2)?;
            PromptCommand::Rollback {
                app: first("app name")?,
                release: args.get(1).map(|s| s.to_string()),
            }
        }
        "theme" => {
            at_most(1)?;
            PromptCommand::Theme(first("theme name")?)
        }
        "ctx" => {
            at_most(1)?;
            PromptCommand::Ctx(args.first().map(|s| s.to_string()))
        }
        _ => return Err(CommandError::Empty),
    };
    if spec.args == Args::None {
        at_most(0)?;
    }
    Ok(cmd)
}

/// The candidate closest to `typed`: one it starts, or one at most two edits away (one for
/// very short words). Ties go to the first candidate.
pub fn suggest<'a>(typed: &str, candidates: impl Iterator<Item = &'a str>) -> Option<&'a str> {
    let typed = typed.to_lowercase();
    let limit = if typed.chars().count() <= 3 { 1 } else { 2 };
    let mut best: Option<(usize, &str)> = None;
    for c in candidates {
        let d = if c.starts_with(&typed) && !typed.is_empty() {
            0
        } else {
            edit_distance(&typed, &c.to_lowercase())
        };
        if d <= limit && best.is_none_or(|(bd, _)| d < bd) {
            best = Some((d, c));
        }
    }
    best.map(|(_, c)| c)
}

/// Levenshtein distance, counting an adjacent swap as one edit.
fn edit_distance(a: &str, b: &str) -> usize {
    let a: Vec<char> = a.chars().collect();
    let b: Vec<char> = b.chars().collect();
    let mut prev2 = vec![0; b.len() + 1];
    let mut prev: Vec<usize> = (0..=b.len()).collect();
    for i in 1..=a.len() {
        let mut cur = vec![i; b.len() + 1];
        for j in 1..=b.len() {
            let cost = usize::from(a[i - 1] != b[j - 1]);
            cur[j] = (prev[j] + 1).min(cur[j - 1] + 1).min(prev[j - 1] + cost);
            if i > 1 && j > 1 && a[i - 1] == b[j - 2] && a[i - 2] == b[j - 1] {
                cur[j] = cur[j].min(prev2[j - 2] + 1);
            }
        }
        prev2 = std::mem::replace(&mut prev, cur);
    }
    prev[b.len()]
}

/// One possible completion, with a word about it (a command's usage, an app's name).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Candidate {
    pub text: String,
    pub detail: String,
}

/// The line after Tab, and what else the word could have been.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Completion {
    pub line: String,
    pub candidates: Vec<Candidate>,
}

/// Complete the last word of `line`: a command name, or the argument at that position (an
/// app id, a theme name). One match completes it; several extend it to their common prefix
/// and are listed.
pub fn complete(state: &State, line: &str) -> Completion {
    let words: Vec<&str> = line.split_whitespace().collect();
    let new_word = line.is_empty() || line.ends_with(char::is_whitespace);
    let (position, partial) = if new_word {
        (words.len(), "")
    } else {
        (words.len() - 1, words.last().copied().unwrap_or(""))
    };
    let pool: Vec<Candidate> = if position == 0 {
        COMMANDS
            .iter()
            .map(|c| Candidate {
                text: c.name.to_string(),
                detail: format!("{} — {}", c.usage, c.desc),
            })
            .collect()
    } else {
        let Some(spec) = words.first().and_then(|w| find_command(w)) else {
            return Completion {
                line: line.to_string(),
                candidates: Vec::new(),
            };
        };
        argument_pool(
            state,
            spec.args,
            position,
            &words[1..position.min(words.len())],
        )
    };
    let matches: Vec<Candidate> = pool
        .into_iter()
        .filter(|c| c.text.to_lowercase().starts_with(&partial.to_lowercase()))
        .collect();
    let stem = &line[..line.len() - partial.len()];
    let completed = match matches.as_slice() {
        [] => line.to_string(),
        [only] => {
            let takes_more =
                position > 0 || find_command(&only.text).is_some_and(|c| c.args != Args::None);
            let space = if takes_more { " " } else { "" };
            format!("{stem}{}{space}", only.text)
        }
        many => {
            let prefix = common_prefix(many.iter().map(|c| c.text.as_str()));
            if prefix.chars().count() > partial.chars().count() {
                format!("{stem}{prefix}")
            } else {
                line.to_string()
            }
        }
    };
    Completion {
        line: completed,
        candidates: matches,
    }
}

fn argument_pool(state: &State, args: Args, position: usize, typed: &[&str]) -> Vec<Candidate> {
    let apps = |exclude: &[&str]| -> Vec<Candidate> {
        state
            .core
            .apps
            .values()
            .filter(|a| !exclude.contains(&a.summary.id.as_str()))
            .map(|a| Candidate {
                text: a.summary.id.clone(),
                detail: a.summary.name.clone(),
            })
            .collect()
    };
    match (args, position) {
        (Args::App | Args::AppCount | Args::AppRelease, 1) => apps(&[]),
        (Args::Apps, _) => apps(typed),
        (Args::Theme, 1) => state
            .core
            .themes
            .iter()
            .map(|t| Candidate {
                text: t.clone(),
                detail: if *t == state.core.theme {
                    "current".into()
                } else {
                    String::new()
                },
            })
            .collect(),
        (Args::Context, 1) => state
            .core
            .contexts
            .iter()
            .map(|c| Candidate {
                text: c.clone(),
                detail: if state.core.context.as_ref() == Some(c) {
                    "current".into()
                } else {
                    String::new()
                },
            })
            .collect(),
        (Args::Runbook, 1) => state
            .runbooks
            .list
            .iter()
            .flatten()
            .map(|r| Candidate {
                text: r.id.clone(),
                detail: r.title.clone(),
            })
            .collect(),
        _ => Vec::new(),
    }
}

fn common_prefix<'a>(mut words: impl Iterator<Item = &'a str>) -> String {
    let Some(first) = words.next() else {
        return String::new();
    };
    let mut prefix: Vec<char> = first.chars().collect();
    for w in words {
        let n = prefix
            .iter()
            .zip(w.chars())
            .take_while(|(a, b)| **a == *b)
            .count();
        prefix.truncate(n);
    }
    prefix.into_iter().collect()
}

/// Carry out a parsed command. An error (an unknown app, an unknown theme) is returned for
/// the prompt to show, and nothing has changed.
pub fn execute(
    state: &mut State,
    cmd: PromptCommand,
    effects: &mut Vec<Effect>,
) -> Result<(), String> {
    match cmd {
        PromptCommand::Apps => navigate(state, Navigate::Overview, effects),
        PromptCommand::Alerts => navigate(state, Navigate::Alerts, effects),
        PromptCommand::Events => navigate(state, Navigate::Events, effects),
        PromptCommand::App(name) => {
            let app = known_app(state, &name)?;
            navigate(state, Navigate::App(app), effects);
        }
        PromptCommand::Releases(name) => {
            let app = known_app(state, &name)?;
            navigate(state, Navigate::Releases(app), effects);
        }
        PromptCommand::Logs(names) => {
            let apps = names
                .iter()
                .map(|n| known_app(state, n))
                .collect::<Result<Vec<_>, _>>()?;
            navigate(state, Navigate::Logs(apps), effects);
        }
        PromptCommand::Rollback { app, release } => {
            let app = known_app(state, &app)?;
            navigate(state, Navigate::Rollback { app, release }, effects);
        }
        PromptCommand::Scale { app, replicas } => {
            let app = known_app(state, &app)?;
            open_scale_with(state, &app, replicas)?;
        }
        PromptCommand::Theme(name) => {
            if !state.core.themes.contains(&name) {
                let hint = match suggest(&name, state.core.themes.iter().map(String::as_str)) {
                    Some(s) => format!("did you mean {s}?"),
                    None => format!("themes: {}", state.core.themes.join(", ")),
                };
                return Err(format!("no theme {name:?} — {hint}"));
            }
            // The screen itself shows the switch; a theme that fails to load says so then
            // (Action::ThemeFailed), so nothing is announced before it is known.
            state.core.theme = name;
        }
        PromptCommand::Ctx(name) => switch_context(state, name, effects)?,
        PromptCommand::Quit => {
            state.quitting = true;
            effects.push(Effect::Quit);
        }
        PromptCommand::Help => {
            state.help_open = true;
            state.help_scroll = 0;
        }
        PromptCommand::Runbooks => navigate(state, Navigate::Runbooks, effects),
        PromptCommand::Runs => navigate(state, Navigate::Runs, effects),
        PromptCommand::Runbook(id) => {
            let listed = state.runbooks.list.as_ref();
            if let Some(list) = listed
                && !list.iter().any(|r| r.id == id)
            {
                let hint = match suggest(&id, list.iter().map(|r| r.id.as_str())) {
                    Some(s) => format!(" — did you mean {s}?"),
                    None => String::new(),
                };
                return Err(format!("no runbook {id:?}{hint}"));
            }
            navigate(state, Navigate::Runbook { id, app: None }, effects);
        }
    }
    Ok(())
}

/// `:ctx NAME`: ask the terminal side to start afresh on context NAME; `:ctx`: list them.
fn switch_context(
    state: &mut State,
    name: Option<String>,
    effects: &mut Vec<Effect>,
) -> Result<(), String> {
    let contexts = &state.core.contexts;
    if contexts.is_empty() {
        return Err("no contexts: they are set in the config file (opsdeck config init)".into());
    }
    let Some(name) = name else {
        let listed: Vec<String> = contexts
            .iter()
            .map(|c| {
                if state.core.context.as_ref() == Some(c) {
                    format!("*{c}")
                } else {
                    c.clone()
                }
            })
            .collect();
        let text = format!("contexts: {} — :ctx NAME switches", listed.join(", "));
        state.core.notify(crate::app::core::NoticeLevel::Info, text);
        return Ok(());
    };
    if !contexts.contains(&name) {
        let hint = match suggest(&name, contexts.iter().map(String::as_str)) {
            Some(s) => format!("did you mean {s}?"),
            None => format!("contexts: {}", contexts.join(", ")),
        };
        return Err(format!("no context {name:?} — {hint}"));
    }
    effects.push(Effect::SwitchContext(name));
    Ok(())
}

/// The id of the app called `name` (its id, or its display name), or an error that suggests
/// the closest id.
fn known_app(state: &State, name: &str) -> Result<String, String> {
    if state.core.apps.contains_key(name) {
        return Ok(name.to_string());
    }
    if let Some(a) = state
        .core
        .apps
        .values()
        .find(|a| a.summary.id.eq_ignore_ascii_case(name) || a.summary.name == name)
    {
        return Ok(a.summary.id.clone());
    }
    match suggest(name, state.core.apps.keys().map(String::as_str)) {
        Some(s) => Err(format!("no app {name:?} — did you mean {s}?")),
        None => Err(format!("no app {name:?} — Tab lists the apps")),
    }
}

/// The scale dialog for `app`, pre-filled with `replicas`. Nothing is sent until the
/// operator reviews and confirms it.
fn open_scale_with(state: &mut State, app: &str, replicas: u32) -> Result<(), String> {
    if state.core.readonly {
        return Err(format!(
            "READ-ONLY: scaling is disabled in this session ({})",
            state.core.readonly_reason()
        ));
    }
    let Some(entry) = state.core.apps.get(app) else {
        return Err(format!("no app {app:?}"));
    };
    let s = &entry.summary;
    let (id, name, r) = (s.id.clone(), s.name.clone(), s.replicas);
    select_in_overview(state, &id);
    let key = state.core.new_idempotency_key();
    let mut dialog = ScaleDialog::new(id, name, r.desired, r.min, r.max, key)
        .on_production(state.core.production);
    dialog.input = replicas.to_string();
    dialog.prefilled = false;
    state.dialog = Some(Dialog::Scale(dialog));
    Ok(())
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[test]
    fn parses_every_command() {
        assert_eq!(parse(":apps"), Ok(PromptCommand::Apps));
        assert_eq!(parse("alerts"), Ok(PromptCommand::Alerts));
        assert_eq!(parse(" :events "), Ok(PromptCommand::Events));
        assert_eq!(parse(":q"), Ok(PromptCommand::Quit));
        assert_eq!(parse(":quit"), Ok(PromptCommand::Quit));
        assert_eq!(parse(":help"), Ok(PromptCommand::Help));
        assert_eq!(
            parse(":app shop-cart"),
            Ok(PromptCommand::App("shop-cart".into()))
        );
        assert_eq!(parse(":logs"), Ok(PromptCommand::Logs(vec![])));
        assert_eq!(
            parse(":logs feed  search"),
            Ok(PromptCommand::Logs(vec!["feed".into(), "search".into()]))
        );
        assert_eq!(
            parse(":scale shop-cart 12"),
            Ok(PromptCommand::Scale {
                app: "shop-cart".into(),
                replicas: 12
            })
        );
        assert_eq!(
            parse(":rollback feed"),
            Ok(PromptCommand::Rollback {
                app: "feed".into(),
                release: None
            })
        );
        assert_eq!(
            parse(":rollback feed r-41"),
            Ok(PromptCommand::Rollback {
                app: "feed".into(),
                release: Some("r-41".into())
            })
        );
        assert_eq!(
            parse(":theme light"),
            Ok(PromptCommand::Theme("light".into()))
        );
    }

    #[test]
    fn bad_arguments_say_what_is_wrong_and_show_usage() {
        let err = |line: &str| parse(line).map_err(|e| e.to_string()).unwrap_err();
        assert_eq!(err(":app"), "missing app name — usage: :app NAME");
        assert_eq!(
            err(":scale shop-cart"),
            "missing replica count — usage: :scale NAME N"
        );
        assert_eq!(
            err(":scale shop-cart lots"),
            "replica count must be a whole number, got \"lots\" — usage: :scale NAME N"
        );
        assert_eq!(
            err(":scale shop-cart -1"),
            "replica count must be a whole number, got \"-1\" — usage: :scale NAME N"
        );
        assert_eq!(err(":alerts now"), "unexpected \"now\" — usage: :alerts");
        assert_eq!(
            err(":rollback a b c"),
            "unexpected \"c\" — usage: :rollback NAME [RELEASE]"
        );
        assert_eq!(parse(":"), Err(CommandError::Empty));
    }

    #[test]
    fn unknown_commands_suggest_the_closest() {
        let err = |line: &str| parse(line).map_err(|e| e.to_string()).unwrap_err();
        assert_eq!(
            err(":alrets"),
            "unknown command :alrets — did you mean :alerts?"
        );
        assert_eq!(
            err(":alert"),
            "unknown command :alert — did you mean :alerts?"
        );
        assert_eq!(
            err(":scael x 1"),
            "unknown command :scael — did you mean :scale?"
        );
        assert_eq!(err(":lgos"), "unknown command :lgos — did you mean :logs?");
        assert_eq!(
            err(":frobnicate"),
            "unknown command :frobnicate — Tab lists the commands"
        );
    }

    #[test]
    fn edit_distance_counts_swaps_once() {
        assert_eq!(edit_distance("alerts", "alerts"), 0);
        assert_eq!(edit_distance("alrets", "alerts"), 1);
        assert_eq!(edit_distance("lgos", "logs"), 1);
        assert_eq!(edit_distance("", "abc"), 3);
        assert_eq!(common_prefix(["apps", "app", "alerts"].into_iter()), "a");
    }
}
