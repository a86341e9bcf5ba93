//! `driftgate completions SHELL` and `driftgate man`.
//!
//! TODO(helper): implement (clap_complete, clap_mangen).

use super::{AppError, Output};
use crate::cli::CompletionsArgs;

/// Prints completions for a shell.
pub fn command(args: &CompletionsArgs, out: &mut Output) -> Result<i32, AppError> {
    let _ = (args, out);
    Err(AppError::Usage(
        "completions are not implemented yet".into(),
    ))
}

/// Prints the man page.
pub fn man(out: &mut Output) -> Result<i32, AppError> {
    let _ = out;
    Err(AppError::Usage("man is not implemented yet".into()))
}
