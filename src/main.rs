//! The `opsdeck` binary: parse the command line, set up logging, dispatch.

use std::process::ExitCode;

use clap::Parser;
use opsdeck::cli::{self, Cli, Command};

fn main() -> ExitCode {
    let cli = Cli::parse();
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
            init_stdout_logging();
            runtime.block_on(cli::run_serve(args))
        }
        Some(Command::Demo(_)) | None => Err(anyhow::anyhow!("the console is not built yet")),
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(err) => {
            eprintln!("opsdeck: {err:#}");
            ExitCode::FAILURE
        }
    }
}

/// The gateway logs structured lines to stdout; level from OPSDECK_LOG (default info).
fn init_stdout_logging() {
    let filter = tracing_subscriber::EnvFilter::try_from_env("OPSDECK_LOG")
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info"));
    tracing_subscriber::fmt().with_env_filter(filter).init();
}
