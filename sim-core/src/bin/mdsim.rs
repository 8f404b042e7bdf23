//! `mdsim`: the missile defense simulator on the command line.

use clap::{Parser, Subcommand};

/// The missile defense simulator on the command line.
#[derive(Debug, Parser)]
#[command(name = "mdsim", version = sim_core::VERSION, about)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Print the version of the simulation core.
    Version,
}

fn main() {
    let cli = Cli::parse();
    match cli.command {
        Command::Version => println!("mdsim {}", sim_core::VERSION),
    }
}
