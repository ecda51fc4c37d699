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
            cli::logging::to_stdout();
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
