//! The `guidon` binary: a thin command-line shell over the library crates.
//!
//! - `guidon serve`: the Flipt-compatible server (configuration in [`config`]).
//! - `guidon validate`: Flipt-style validation of flag files.
//! - `guidon eval`: evaluate one flag from files, optionally with an explanation.
//! - `guidon health`: exit 0 only when a server answers `SERVING` (a container
//!   health check for images without curl).

mod cli;
mod config;

use std::process::ExitCode;

use clap::Parser;

fn main() -> ExitCode {
    let args = cli::Args::parse();
    match cli::run(args) {
        Ok(code) => code,
        Err(e) => {
            eprintln!("error: {e:#}");
            ExitCode::from(2)
        }
    }
}
