//! Asking before a change: y/N on a terminal, `--yes` for scripts, the app id typed out against
//! production, and a named context for a script against production. Nothing is sent until this
//! says yes; every refusal exits with the usage code.

use std::io::{BufRead, IsTerminal, Write};

use clap::Args;

use super::connection::Connection;
use super::exit::{CliError, CliResult};

/// Options every change takes.
#[derive(Args, Debug, Clone, Default)]
pub struct ChangeArgs {
    /// Do not ask: for scripts, which have no terminal to answer on. Against production a script
    /// must also name its context (--context).
    #[arg(long, short = 'y')]
    pub yes: bool,
    /// The Idempotency-Key to send (default: a new one). Retrying with the same key and
    /// request never applies the change twice.
    #[arg(long, value_name = "KEY")]
    pub idempotency_key: Option<String>,
}

impl ChangeArgs {
    /// The key to send with this change.
    pub fn key(&self) -> String {
        self.idempotency_key
            .clone()
            .unwrap_or_else(|| format!("cli-{:016x}{:016x}", fastrand::u64(..), fastrand::u64(..)))
    }
}

/// Whether the operator is there to answer: stdin and stderr (where the question goes) are a
/// terminal.
pub fn interactive() -> bool {
    std::io::stdin().is_terminal() && std::io::stderr().is_terminal()
}

/// Go ahead with `what` (e.g. "scale shop-cart 4 -> 6") only if the operator agrees; `name` is
/// what they type against production (the app, alert or run the change is about).
pub fn confirm(conn: &Connection, change: &ChangeArgs, what: &str, name: &str) -> CliResult {
    decide(conn, change, what, name, interactive(), &mut || {
        read_answer()
    })
}

fn read_answer() -> Option<String> {
    let mut line = String::new();
    match std::io::stdin().lock().read_line(&mut line) {
        Ok(0) | Err(_) => None,
        Ok(_) => Some(line.trim().to_string()),
    }
}

fn ask(question: &str) {
    let mut err = std::io::stderr().lock();
    let _ = write!(err, "{question}");
    let _ = err.flush();
}

fn decide(
    conn: &Connection,
    change: &ChangeArgs,
    what: &str,
    name: &str,
    interactive: bool,
    answer: &mut dyn FnMut() -> Option<String>,
) -> CliResult {
    if conn.production {
        if !interactive {
            if !conn.explicit_context {
                return Err(CliError::usage(format!(
                    "refusing to {what} on a production gateway from a script: name the \
                     context explicitly with --context NAME (and --yes); nothing was sent"
                )));
            }
            return if change.yes {
                Ok(())
            } else {
                Err(no_terminal(what))
            };
        }
        ask(&format!(
            "PRODUCTION ({}): {what}\nType {name} to confirm: ",
            conn.url
        ));
        return match answer() {
            Some(typed) if typed == name => Ok(()),
            _ => Err(CliError::usage(format!(
                "not confirmed ({name} was not typed); nothing was sent"
            ))),
        };
    }
    if change.yes {
        return Ok(());
    }
    if !interactive {
        return Err(no_terminal(what));
    }
    ask(&format!("{what}? [y/N] "));
    match answer().map(|a| a.to_ascii_lowercase()) {
        Some(a) if a == "y" || a == "yes" => Ok(()),
        _ => Err(CliError::usage("not confirmed; nothing was sent")),
    }
}

fn no_terminal(what: &str) -> CliError {
    CliError::usage(format!(
        "refusing to {what} without a terminal to confirm on: add --yes; nothing was sent"
    ))
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;
    use crate::cli::ConnectionArgs;
    use crate::cli::exit::Exit;

    fn conn(production: bool, explicit_context: bool) -> Connection {
        let mut c = crate::cli::connection::resolve(&ConnectionArgs::default()).unwrap();
        c.production = production;
        c.explicit_context = explicit_context;
        c
    }

    fn run(c: &Connection, yes: bool, tty: bool, typed: Option<&str>) -> Result<(), Exit> {
        let change = ChangeArgs {
            yes,
            idempotency_key: None,
        };
        let mut answer = || typed.map(str::to_string);
        decide(
            c,
            &change,
            "scale shop-cart 4 -> 6",
            "shop-cart",
            tty,
            &mut answer,
        )
        .map_err(|e| e.exit)
    }

    #[test]
    fn a_script_needs_yes_and_a_terminal_is_asked() {
        let c = conn(false, false);
        assert_eq!(run(&c, false, false, None), Err(Exit::Usage));
        assert_eq!(run(&c, true, false, None), Ok(()));
        assert_eq!(run(&c, false, true, Some("y")), Ok(()));
        assert_eq!(run(&c, false, true, Some("")), Err(Exit::Usage));
        assert_eq!(run(&c, false, true, None), Err(Exit::Usage));
    }

    #[test]
    fn production_needs_a_named_context_from_a_script_and_the_name_typed_on_a_terminal() {
        let c = conn(true, false);
        assert_eq!(run(&c, true, false, None), Err(Exit::Usage));
        assert_eq!(run(&c, true, true, Some("y")), Err(Exit::Usage));
        assert_eq!(run(&c, false, true, Some("shop-cart")), Ok(()));
        let named = conn(true, true);
        assert_eq!(run(&named, true, false, None), Ok(()));
        assert_eq!(run(&named, false, false, None), Err(Exit::Usage));
    }
}
