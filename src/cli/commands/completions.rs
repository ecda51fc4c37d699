//! `opsdeck completions SHELL` (clap_complete) and `opsdeck man` (clap_mangen): both made from
//! the same clap definition the binary parses with, so they cannot drift from it. Every script
//! also completes app, alert, runbook and run ids: bash asks the gateway through the hidden
//! `opsdeck __complete KIND`, zsh, fish and PowerShell through `opsdeck __complete line`,
//! which finds which ids go at the cursor itself; both print ids one a line, or nothing when
//! the gateway does not answer within a second.

use std::time::Duration;

use clap::{Args, CommandFactory, Parser, ValueEnum};
use clap_complete::Shell;
use serde_json::Value;

use super::ClientArgs;
use crate::cli::exit::{CliError, CliResult};
use crate::cli::{Cli, ConnectionArgs};

#[derive(Args, Debug, Clone)]
pub struct Completions {
    /// bash, zsh, fish or powershell (also elvish).
    pub shell: Shell,
}

impl Completions {
    /// Print the completion script, e.g.
    /// `opsdeck completions bash > ~/.local/share/bash-completion/completions/opsdeck`.
    pub fn run(self) -> CliResult {
        let mut command = Cli::command();
        let mut bytes = Vec::new();
        clap_complete::generate(self.shell, &mut command, "opsdeck", &mut bytes);
        let mut script = hide_complete(&String::from_utf8_lossy(&bytes));
        match self.shell {
            Shell::Bash => script.push_str(BASH_IDS),
            Shell::Fish => script.push_str(FISH_IDS),
            Shell::Zsh => script = with_ids(&script, "_opsdeck() {", "_opsdeck_clap() {", ZSH_IDS),
            Shell::PowerShell => {
                script = with_ids(&script, POWERSHELL_AT, POWERSHELL_IDS, "");
            }
            _ => {}
        }
        crate::cli::output::emit(&script)
    }
}

/// The script without `__complete` among the commands it offers (clap_complete lists hidden
/// subcommands too): its description lines dropped, its name taken out of bash's lists.
fn hide_complete(script: &str) -> String {
    script
        .lines()
        .filter(|line| !line.contains(COMPLETE_ABOUT))
        .map(|line| match line.trim_start().starts_with("opts=") {
            true => line.replace(" __complete ", " "),
            false => line.to_string(),
        })
        .map(|line| line + "\n")
        .collect()
}

/// `script` with its first `from` replaced by `to`, and `tail` put before the zsh script's
/// closing dispatch (for zsh; empty otherwise). A script clap_complete no longer writes the
/// same way is left as it was (a test checks every shell's script carries its hook).
fn with_ids(script: &str, from: &str, to: &str, tail: &str) -> String {
    let mut out = script.replacen(from, to, 1);
    if !tail.is_empty() {
        match out.rfind(ZSH_DISPATCH) {
            Some(at) => out.insert_str(at, tail),
            None => out.push_str(tail),
        }
    }
    out
}

/// Where the zsh script ends: run as an autoloaded `_opsdeck`, or registered when sourced.
const ZSH_DISPATCH: &str = "if [ \"$funcstack[1]\" = \"_opsdeck\" ]; then";

/// Zsh: clap's `_opsdeck` becomes `_opsdeck_clap`; this `_opsdeck` asks the gateway for the
/// ids the line takes at the cursor (`opsdeck __complete line`), and leaves the rest to it.
const ZSH_IDS: &str = r#"# Ids from the gateway (opsdeck __complete line), for the commands that take them; clap's
# completion for the rest.
_opsdeck() {
    if [[ $PREFIX != -* ]]; then
        local -a opsdeck_line opsdeck_ids
        opsdeck_line=("${(@Q)words}")
        opsdeck_ids=(${(f)"$(command ${opsdeck_line[1]} __complete line --before $((CURRENT - 1)) -- \
            "${(@)opsdeck_line[1,CURRENT-1]}" "${(@)opsdeck_line[CURRENT+1,-1]}" 2>/dev/null)"})
        if (( ${#opsdeck_ids} )); then
            compadd -a opsdeck_ids
            return
        fi
    fi
    _opsdeck_clap "$@"
}

"#;

/// PowerShell: where clap's script filters its completions by the word typed so far.
const POWERSHELL_AT: &str = "    $completions.Where{";

/// PowerShell: the ids the line takes at the cursor (`opsdeck __complete line`), instead of
/// clap's completions, when there are any.
const POWERSHELL_IDS: &str = r#"    # Ids from the gateway (opsdeck __complete line), for the commands that take them.
    if (-not $wordToComplete.StartsWith('-')) {
        $before = @($commandElements | Where-Object { $_.Extent.EndOffset -lt $cursorPosition })
        $after = @($commandElements | Where-Object { $_.Extent.StartOffset -gt $cursorPosition })
        # As typed, but a quoted word without its quotes.
        $line = @(($before + $after) | ForEach-Object {
            if ($_ -is [StringConstantExpressionAst]) { $_.Value } else { $_.Extent.Text }
        })
        # '--' quoted: Windows PowerShell drops a bare one on the way to a native command.
        $ids = @(& $line[0] __complete line --before $before.Count '--' @line 2>$null)
        if ($ids.Count -gt 0) {
            $completions = @($ids | ForEach-Object {
                [CompletionResult]::new($_, $_, [CompletionResultType]::ParameterValue, $_)
            })
        }
    }

    $completions.Where{"#;

/// The hidden subcommand's description, as the scripts quote it.
const COMPLETE_ABOUT: &str = "Ids for shell completion, one a line";

/// Print the manual page (roff).
pub fn man() -> CliResult {
    let mut bytes = Vec::new();
    clap_mangen::Man::new(Cli::command())
        .render(&mut bytes)
        .map_err(|e| CliError::failure(format!("cannot render the manual: {e}")))?;
    crate::cli::output::emit(&String::from_utf8_lossy(&bytes))
}

/// What `__complete` lists.
#[derive(ValueEnum, Clone, Copy, Debug, PartialEq, Eq)]
pub enum IdKind {
    Apps,
    Alerts,
    Runbooks,
    Runs,
    /// The ids the command line takes at the cursor, if any (zsh and PowerShell): the line's
    /// words but the one being completed follow `--`, `--before N` of them before the cursor;
    /// the connection options among them (`--url`, `--context` …) say which gateway to ask.
    Line,
}

/// `opsdeck __complete KIND`: ids for the shell, one a line.
#[derive(Args, Debug, Clone)]
pub struct Complete {
    pub kind: IdKind,
    #[command(flatten)]
    pub client: ClientArgs,
    /// With `line`: how many of the words come before the cursor (the program included).
    #[arg(long, value_name = "N", default_value_t = usize::MAX)]
    pub before: usize,
    /// With `line`: the command line's words, but the one being completed.
    #[arg(last = true, value_name = "WORDS")]
    pub words: Vec<String>,
}

/// The connection options a command line may carry, which `__complete line` passes on.
const CONNECTION_OPTIONS: [&str; 6] = [
    "--url",
    "--ca-cert",
    "--token-file",
    "--token-command",
    "--config",
    "--context",
];

/// For `__complete line`: which ids go at the cursor, after the `before` words there (the
/// program first), and the connection options found in all of `words`. None where no id goes.
pub fn ids_at(words: &[String], before: usize) -> Option<(IdKind, Vec<String>)> {
    let takes_value = options_taking_values();
    let mut connection = Vec::new();
    let mut positional = Vec::new();
    let mut i = 1;
    while i < words.len() {
        let word = words[i].as_str();
        let counts = i < before;
        i += 1;
        if let Some((name, _)) = word.split_once('=')
            && name.starts_with("--")
        {
            if CONNECTION_OPTIONS.contains(&name) {
                connection.push(word.to_string());
            }
            continue;
        }
        if takes_value.iter().any(|o| o == word) {
            if CONNECTION_OPTIONS.contains(&word)
                && let Some(value) = words.get(i)
            {
                connection.extend([word.to_string(), value.clone()]);
            }
            i += 1;
            continue;
        }
        if counts && !word.starts_with('-') {
            positional.push(word);
        }
    }
    let kind = match positional.as_slice() {
        ["app" | "scale" | "rollback" | "releases" | "metrics"] | ["logs", ..] => IdKind::Apps,
        ["ack" | "silence"] => IdKind::Alerts,
        ["runbook", "show" | "run"] => IdKind::Runbooks,
        ["runbook", "status" | "approve" | "abort" | "resume"] => IdKind::Runs,
        _ => return None,
    };
    Some((kind, connection))
}

/// Every option of the command line that takes a value (`--url`, `-o`), from its definition.
fn options_taking_values() -> Vec<String> {
    fn walk(command: &clap::Command, out: &mut Vec<String>) {
        for arg in command.get_arguments() {
            if arg.get_action().takes_values() && !arg.is_positional() {
                out.extend(arg.get_long().map(|l| format!("--{l}")));
                out.extend(arg.get_short().map(|s| format!("-{s}")));
            }
        }
        for sub in command.get_subcommands() {
            walk(sub, out);
        }
    }
    let mut out = Vec::new();
    walk(&Cli::command(), &mut out);
    out.sort_unstable();
    out.dedup();
    out
}

/// The connection options of a command line being completed.
#[derive(clap::Parser, Debug)]
struct LineConnection {
    #[command(flatten)]
    connection: ConnectionArgs,
}

/// How long a completion may wait for the gateway: a shell must not hang on TAB.
const COMPLETE_TIMEOUT: Duration = Duration::from_secs(1);

impl Complete {
    /// Never fails: a gateway that does not answer completes nothing.
    pub async fn run(self, top: &ConnectionArgs) -> CliResult {
        let (kind, client) = match self.kind {
            IdKind::Line => {
                let Some((kind, options)) = ids_at(&self.words, self.before) else {
                    return Ok(());
                };
                // The line's own options, read as clap reads them (the environment under).
                let args = std::iter::once("opsdeck".to_string()).chain(options);
                let Ok(line) = LineConnection::try_parse_from(args) else {
                    return Ok(());
                };
                let client = ClientArgs {
                    connection: line.connection.or(&self.client.connection),
                    ..self.client
                };
                (kind, client)
            }
            kind => (kind, self.client),
        };
        let Ok((conn, _)) = client.open(top) else {
            return Ok(());
        };
        let path: &[&str] = match kind {
            IdKind::Apps => &["v1", "apps"],
            IdKind::Alerts => &["v1", "alerts"],
            IdKind::Runbooks => &["v1", "runbooks"],
            IdKind::Runs => &["v1", "runs"],
            IdKind::Line => return Ok(()),
        };
        let answer = tokio::time::timeout(COMPLETE_TIMEOUT, super::get(&conn, path)).await;
        let Ok(Ok(Value::Array(items))) = answer else {
            return Ok(());
        };
        let ids: String = items
            .iter()
            // Resolved alerts need no ack or silence.
            .filter(|item| item["state"] != "resolved" || kind != IdKind::Alerts)
            .filter_map(|item| item["id"].as_str())
            .map(|id| format!("{id}\n"))
            .collect();
        crate::cli::output::emit(&ids)
    }
}

/// Bash: ids for the commands that take them, else clap's completion.
const BASH_IDS: &str = r#"
# Ids from the gateway (opsdeck __complete), for the commands that take them.
_opsdeck_ids() {
    local cur="${COMP_WORDS[COMP_CWORD]}" words=() conn=() skip="" i w
    # The connection options, wherever they are on the line.
    for ((i = 1; i < ${#COMP_WORDS[@]} - 1; i++)); do
        case "${COMP_WORDS[i]}" in
            --url|--ca-cert|--token-file|--token-command) conn+=("${COMP_WORDS[i]}" "${COMP_WORDS[i+1]}") ;;
        esac
    done
    # The words before the cursor that are not options: the command and its arguments.
    for ((i = 1; i < COMP_CWORD; i++)); do
        w="${COMP_WORDS[i]}"
        if [[ -n "$skip" ]]; then
            skip=""
            continue
        fi
        case "$w" in
            --url|--ca-cert|--token-file|--token-command|-o|--output|--to|--for|--comment|--since|--grep|--level|--timeout|--window|--idempotency-key|-p|--param|--step|--severity|--app|--state|--theme|--log-buffer) skip="$w" ;;
            -*) ;;
            *) words+=("$w") ;;
        esac
    done
    local kind=""
    case "${words[0]}" in
        app|scale|rollback|releases|metrics) [[ ${#words[@]} -eq 1 ]] && kind=apps ;;
        logs) kind=apps ;;
        ack|silence) [[ ${#words[@]} -eq 1 ]] && kind=alerts ;;
        runbook)
            case "${words[1]}" in
                show|run) [[ ${#words[@]} -eq 2 ]] && kind=runbooks ;;
                status|approve|abort|resume) [[ ${#words[@]} -eq 2 ]] && kind=runs ;;
            esac ;;
    esac
    if [[ -n "$kind" && "$cur" != -* ]]; then
        COMPREPLY=( $(compgen -W "$("${COMP_WORDS[0]}" __complete "$kind" "${conn[@]}" 2>/dev/null)" -- "$cur") )
        return 0
    fi
    _opsdeck "$@"
}
complete -F _opsdeck_ids -o bashdefault -o default opsdeck
"#;

/// Fish: the ids the line takes at the cursor (`opsdeck __complete line`), with the words on
/// both sides of it, so a `--url` after the cursor is read too.
const FISH_IDS: &str = r#"
# Ids from the gateway (opsdeck __complete line), for the commands that take them.
function __opsdeck_ids_at_cursor
    set -l before (commandline -opc)
    set -l all (commandline -o)
    set -l from (math (count $before) + 1)
    test -n (commandline -ct | string collect); and set from (math $from + 1)
    set -l after
    test (count $all) -ge $from; and set after $all[$from..-1]
    set -g __opsdeck_ids (command $before[1] __complete line --before (count $before) -- $before $after 2>/dev/null)
    test (count $__opsdeck_ids) -gt 0
end
complete -c opsdeck -n "not string match -q -- '-*' (commandline -ct); and __opsdeck_ids_at_cursor" -f -a '$__opsdeck_ids'
"#;

#[cfg(test)]
mod tests {
    use super::{IdKind, ids_at};

    fn at(line: &str, before: usize) -> Option<(IdKind, Vec<String>)> {
        let words: Vec<String> = line.split(' ').map(String::from).collect();
        ids_at(&words, before)
    }

    #[test]
    fn the_ids_at_the_cursor_follow_the_command_and_skip_option_values() {
        let url = |u: &str| vec!["--url".to_string(), u.to_string()];
        assert_eq!(at("opsdeck scale", 2), Some((IdKind::Apps, vec![])));
        assert_eq!(
            at("opsdeck -o json --url ws://a:1 scale", 6),
            Some((IdKind::Apps, url("ws://a:1")))
        );
        assert_eq!(at("opsdeck scale shop-cart", 3), None, "the count is no id");
        assert_eq!(at("opsdeck logs a b", 4).map(|k| k.0), Some(IdKind::Apps));
        assert_eq!(at("opsdeck ack", 2).map(|k| k.0), Some(IdKind::Alerts));
        // Options after the cursor still say which gateway, in both spellings.
        assert_eq!(
            at("opsdeck runbook run --url=ws://b:2 --context prod", 3),
            Some((
                IdKind::Runbooks,
                vec!["--url=ws://b:2".into(), "--context".into(), "prod".into()]
            ))
        );
        assert_eq!(
            at("opsdeck runbook abort", 3).map(|k| k.0),
            Some(IdKind::Runs)
        );
        assert_eq!(at("opsdeck runbook list", 3), None);
        assert_eq!(at("opsdeck", 1), None);
    }
}
