//! The `driftgate` binary: parse arguments, run, exit with the status.

use std::process::ExitCode;

fn main() -> ExitCode {
    ExitCode::from(driftgate::app::main().code())
}
