//! `relay-server`: parses the configuration, runs the relay, and turns a failure into
//! `error: <one sentence>` on stderr and a non-zero exit status. Everything else lives in
//! the library (`relay_server::server::run`).

use std::process::ExitCode;

use clap::Parser;
use relay_server::{Config, server};

#[tokio::main]
async fn main() -> ExitCode {
    // Usage errors, --help and --version are printed by clap, which exits with its own codes.
    let config = Config::parse();
    let result = match server::init_logging(&config) {
        Ok(()) => server::run(config).await,
        Err(err) => Err(err),
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(err) => {
            eprintln!("error: {err}");
            ExitCode::FAILURE
        }
    }
}
