//! The `driftgate` binary: parse arguments, run, exit with the status.

use std::process::ExitCode;

fn main() -> ExitCode {
    let code = driftgate::app::main();
    ExitCode::from(u8::try_from(code).unwrap_or(2))
}
