//! The `opsdeck` binary: parse the command line, set up logging, dispatch.

use std::process::ExitCode;

use clap::{ArgMatches, CommandFactory, FromArgMatches};
use opsdeck::cli::{self, Cli, Command, ConnectionArgs, ConsoleArgs, SimArgs};
use opsdeck::client::BearerToken;
use opsdeck::config::console::{Given, Settings, SettingsError, default_path};
use opsdeck::config::gateway::GatewayFile;
use opsdeck::config::provenance::flags_given;
use opsdeck::gateway::Tokens;
use opsdeck::gateway::tokens::generate;
use opsdeck::protocol::Role;
use opsdeck::tui::{ConsoleOptions, run_console};

fn main() -> ExitCode {
    // The matches, not only the parsed struct: they tell a flag from its environment variable,
    // for precedence and `opsdeck config show`.
    let matches = Cli::command().get_matches();
    let mut cli = match Cli::from_arg_matches(&matches) {
        Ok(cli) => cli,
        Err(err) => err.exit(),
    };
    cli.console.connection.flags = flags_given(&matches);
    // Every reqwest client (console HTTP, gateway probes) needs a rustls provider; ring it is.
    opsdeck::client::tls::install_crypto_provider();
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
    {
        Ok(rt) => rt,
        Err(err) => {
            eprintln!("opsdeck: cannot start the async runtime: {err}");
            return ExitCode::FAILURE;
        }
    };
    let given = Given::from_cli(&cli.console.connection, &cli.console.view, &[&matches]);
    let settings = |given: &Given| {
        let settings = Settings::resolve(given)?;
        for warning in settings.file.iter().flat_map(|f| &f.warnings) {
            eprintln!("opsdeck: warning: {warning}");
        }
        anyhow::Ok(settings)
    };
    let result = match cli.command {
        Some(Command::Serve(mut args)) => {
            cli::logging::to_stdout();
            gateway_file(&matches, &mut args).and_then(|()| runtime.block_on(cli::run_serve(*args)))
        }
        Some(Command::Audit(command)) => {
            runtime.block_on(cli::audit::run_audit(command, &cli.console.connection))
        }
        Some(Command::Scripting(command)) => {
            let result = runtime.block_on(cli::commands::run(command, &cli.console.connection));
            return match result {
                Ok(()) => ExitCode::SUCCESS,
                Err(err) => {
                    eprintln!("opsdeck: {err}");
                    ExitCode::from(err.exit.code())
                }
            };
        }
        // A --context or OPSDECK_CONTEXT naming no context must not keep `ctx` from listing
        // the contexts there are, or from switching to one of them.
        Some(Command::Ctx(args)) => {
            let given = given_after(&args.console, &cli.console, &matches, &["ctx"]);
            settings(&given)
                .or_else(|err| match err.downcast_ref::<SettingsError>() {
                    Some(SettingsError::UnknownContext { .. }) => {
                        eprintln!("opsdeck: warning: {err}");
                        let without = Given {
                            context: None,
                            ..given.clone()
                        };
                        Ok(Settings::resolve(&without)?)
                    }
                    _ => Err(err),
                })
                .and_then(|s| cli::run_ctx(&args, &s))
        }
        Some(Command::Config(command)) => {
            let sub = command.name();
            let given = given_after(command.console(), &cli.console, &matches, &["config", sub]);
            let settings = || settings(&given);
            match given.config.clone().map(|c| c.value) {
                Some(path) => cli::run_config(&command, &path, settings),
                None => default_path()
                    .ok_or_else(|| anyhow::anyhow!("no home folder: give --config FILE"))
                    .and_then(|path| cli::run_config(&command, &path, settings)),
            }
        }
        Some(Command::Screenshots { out, seed }) => cli::run_screenshots(&out, seed).map(|files| {
            println!("wrote {} screenshots to {}", files.len(), out.display());
        }),
        Some(Command::Token(command)) => cli::run_token(&command),
        Some(Command::Demo(demo)) => {
            // `opsdeck demo --mouse` and `opsdeck --mouse demo` alike.
            let after = ConsoleArgs {
                connection: ConnectionArgs {
                    production: demo.production,
                    ..ConnectionArgs::default()
                },
                view: demo.view.clone(),
            };
            let given = given_after(&after, &cli.console, &matches, &["demo"]);
            settings(&given)
                .and_then(|s| Ok(s.for_demo(&given)?))
                .and_then(|s| runtime.block_on(console(s, given.clone(), Some(demo.sim))))
        }
        None => settings(&given).and_then(|s| {
            let sim = s.url.value.is_none().then(SimArgs::default);
            runtime.block_on(console(s, given.clone(), sim))
        }),
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(err) => {
            eprintln!("opsdeck: {err:#}");
            ExitCode::FAILURE
        }
    }
}

/// The console's settings as given to a command: its own options (`after`, written after the
/// command at `path`) over those written before it (`before`); the matches of both tell a flag
/// from its variable, the command's first.
fn given_after(
    after: &ConsoleArgs,
    before: &ConsoleArgs,
    matches: &ArgMatches,
    path: &[&str],
) -> Given {
    let console = after.or(before);
    let inner = path
        .iter()
        .try_fold(matches, |m, name| m.subcommand_matches(name));
    let sources: Vec<&ArgMatches> = inner.into_iter().chain([matches]).collect();
    Given::from_cli(&console.connection, &console.view, &sources)
}

/// `opsdeck serve --config FILE`: fill what no flag (or variable) gave from the file.
fn gateway_file(matches: &ArgMatches, args: &mut cli::ServeArgs) -> anyhow::Result<()> {
    let (Some(path), Some(serve)) = (args.config.clone(), matches.subcommand_matches("serve"))
    else {
        return Ok(());
    };
    GatewayFile::load(&path)?.apply(args, serve);
    tracing::info!(file = %path.display(), "gateway config read");
    Ok(())
}

/// Open the console: on `sim` started in this process (DEMO), or on the gateway the settings
/// name (`--url`, or the context's). `:ctx NAME` later switches to another context of the
/// same config file: its connection is the context's alone, the console's own settings keep
/// the flags and environment (`Settings::for_context`).
async fn console(settings: Settings, given: Given, sim: Option<SimArgs>) -> anyhow::Result<()> {
    let file = settings.clone();
    let switch: opsdeck::tui::SwitchContext = Box::new(move |name: &str| {
        let next = file.for_context(&given, name)?;
        let url = next
            .url
            .value
            .clone()
            .ok_or_else(|| anyhow::anyhow!("the context has no url"))?;
        ConsoleOptions::from_settings(&next, url)
    });
    // Before the embedded gateway starts, so its lines go to the file too, never the screen.
    let _log_guard = opsdeck::tui::logging::init_file_logging();
    match (sim, &settings.url.value) {
        (Some(sim), _) => {
            // Checked before anything starts: a bad keymap override stops here.
            let keymap = settings.keymap()?;
            // The embedded gateway listens on loopback, where any local user could reach it:
            // it accepts one token, made here and held only in memory, for this console.
            let token = generate()?;
            let tokens = Tokens::single(&opsdeck::tui::actor_name(), Role::Operator, &token);
            let gateway = cli::start_sim_gateway(sim.sim_config(), Some(tokens))
                .await
                .map_err(|err| anyhow::anyhow!("cannot start the embedded simulator: {err}"))?;
            let url = format!("ws://{}", gateway.addr);
            let opts = ConsoleOptions {
                token: Some(BearerToken::new(token)),
                demo: true,
                readonly: settings.readonly.value,
                production: settings.production.value,
                theme: settings.theme.value.clone(),
                log_buffer: settings.log_buffer.value,
                mouse: settings.mouse.value,
                keymap,
                contexts: settings.context_names(),
                view: settings.view.value.map(|v| v.navigate()),
                ..ConsoleOptions::new(url)?
            };
            let result = run_console(opts, Some(switch)).await;
            gateway.stop().await;
            result
        }
        (None, Some(url)) => {
            let opts = ConsoleOptions::from_settings(&settings, url.clone())?;
            run_console(opts, Some(switch)).await
        }
        (None, None) => Err(anyhow::anyhow!("no gateway URL given")),
    }
}
