//! The `resnet` command-line program (crates/resnet-cli); see `resnet --help`.

use std::process::ExitCode;

fn main() -> ExitCode {
    match resnet_cli::main() {
        Ok(()) => ExitCode::SUCCESS,
        Err(error) => {
            // The chain of causes, without a backtrace: these are the user's errors to fix.
            eprintln!("error: {error:#}");
            ExitCode::FAILURE
        }
    }
}
