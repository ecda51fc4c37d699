//! The `opsdeck` binary: parse the command line, set up logging, dispatch.

use std::process::ExitCode;

use clap::Parser;
use opsdeck::cli::{self, Cli, Command, ConnectionArgs, SimArgs, ViewArgs};
use opsdeck::client::BearerToken;
use opsdeck::gateway::Tokens;
use opsdeck::gateway::tokens::generate;
use opsdeck::protocol::Role;
use opsdeck::tui::{ConsoleOptions, run_console};

fn main() -> ExitCode {
    let cli = Cli::parse();
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
    let result = match cli.command {
        Some(Command::Serve(args)) => {
            cli::logging::to_stdout();
            runtime.block_on(cli::run_serve(*args))
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
        Some(Command::Screenshots { out, seed }) => cli::run_screenshots(&out, seed).map(|files| {
            println!("wrote {} screenshots to {}", files.len(), out.display());
        }),
        Some(Command::Token(command)) => cli::run_token(&command),
        Some(Command::Demo(demo)) => {
            let connection = ConnectionArgs {
                production: demo.production || cli.console.connection.production,
                ..ConnectionArgs::default()
            };
            let view = demo.view.or(&cli.console.view);
            runtime.block_on(console(connection, view, Some(demo.sim)))
        }
        None => {
            let sim = cli.console.connection.url.is_none().then(SimArgs::default);
            runtime.block_on(console(cli.console.connection, cli.console.view, sim))
        }
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(err) => {
            eprintln!("opsdeck: {err:#}");
            ExitCode::FAILURE
        }
    }
}

/// Open the console: on `sim` started in this process (DEMO), or on the gateway at `--url`.
async fn console(args: ConnectionArgs, view: ViewArgs, sim: Option<SimArgs>) -> anyhow::Result<()> {
    let options = |url: String, demo: bool, token: Option<String>| ConsoleOptions {
        url,
        token: token.map(BearerToken::new),
        ca_cert: args.ca_cert.clone(),
        demo,
        readonly: view.readonly,
        production: args.production,
        theme: view.theme.clone(),
        log_buffer: view.log_buffer,
        mouse: view.mouse,
    };
    // Before the embedded gateway starts, so its lines go to the file too, never the screen.
    let _log_guard = opsdeck::tui::logging::init_file_logging();
    match (sim, &args.url) {
        (Some(sim), _) => {
            // The embedded gateway listens on loopback, where any local user could reach it:
            // it accepts one token, made here and held only in memory, for this console.
            let token = generate()?;
            let tokens = Tokens::single(&opsdeck::tui::actor_name(), Role::Operator, &token);
            let gateway = cli::start_sim_gateway(sim.sim_config(), Some(tokens))
                .await
                .map_err(|err| anyhow::anyhow!("cannot start the embedded simulator: {err}"))?;
            let url = format!("ws://{}", gateway.addr);
            let result = run_console(options(url, true, Some(token))).await;
            gateway.stop().await;
            result
        }
        (None, Some(url)) => {
            let token = cli::console_token(&args)?;
            run_console(options(url.clone(), false, token)).await
        }
        (None, None) => Err(anyhow::anyhow!("no gateway URL given")),
    }
}
