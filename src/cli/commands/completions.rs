//! `opsdeck completions SHELL` (clap_complete) and `opsdeck man` (clap_mangen): both made from
//! the same clap definition the binary parses with, so they cannot drift from it. The bash and
//! fish scripts also complete app, alert, runbook and run ids: they ask the gateway through the
//! hidden `opsdeck __complete KIND`, which prints ids one a line, or nothing when the gateway
//! does not answer within a second.

use std::time::Duration;

use clap::{Args, CommandFactory, ValueEnum};
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
}

/// `opsdeck __complete KIND`: ids for the shell, one a line.
#[derive(Args, Debug, Clone)]
pub struct Complete {
    pub kind: IdKind,
    #[command(flatten)]
    pub client: ClientArgs,
}

/// How long a completion may wait for the gateway: a shell must not hang on TAB.
const COMPLETE_TIMEOUT: Duration = Duration::from_secs(1);

impl Complete {
    /// Never fails: a gateway that does not answer completes nothing.
    pub async fn run(self, top: &ConnectionArgs) -> CliResult {
        let Ok((conn, _)) = self.client.open(top) else {
            return Ok(());
        };
        let path: &[&str] = match self.kind {
            IdKind::Apps => &["v1", "apps"],
            IdKind::Alerts => &["v1", "alerts"],
            IdKind::Runbooks => &["v1", "runbooks"],
            IdKind::Runs => &["v1", "runs"],
        };
        let answer = tokio::time::timeout(COMPLETE_TIMEOUT, super::get(&conn, path)).await;
        let Ok(Ok(Value::Array(items))) = answer else {
            return Ok(());
        };
        let ids: String = items
            .iter()
            // Resolved alerts need no ack or silence.
            .filter(|item| item["state"] != "resolved" || self.kind != IdKind::Alerts)
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

/// Fish: ids for the commands that take them (the gateway from OPSDECK_URL or the default).
const FISH_IDS: &str = r#"
# Ids from the gateway (opsdeck __complete), for the commands that take them.
function __opsdeck_ids
    set -l cmd (commandline -opc)
    command $cmd[1] __complete $argv 2>/dev/null
end
complete -c opsdeck -n "__fish_seen_subcommand_from app scale rollback releases metrics logs" -f -a "(__opsdeck_ids apps)"
complete -c opsdeck -n "__fish_seen_subcommand_from ack silence" -f -a "(__opsdeck_ids alerts)"
complete -c opsdeck -n "__fish_seen_subcommand_from runbook; and __fish_seen_subcommand_from show run" -f -a "(__opsdeck_ids runbooks)"
complete -c opsdeck -n "__fish_seen_subcommand_from runbook; and __fish_seen_subcommand_from status approve abort resume" -f -a "(__opsdeck_ids runs)"
"#;
