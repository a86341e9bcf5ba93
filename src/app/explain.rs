//! `driftgate explain [ID]`: the documentation of a check, from its `///`.

use super::{AppError, Exit, Output};
use crate::check::{doc_text, find, summary_of, CHECKS};
use crate::cli::ExplainArgs;

/// Prints one check's doc, or every id with its summary.
pub fn command(args: &ExplainArgs, out: &mut Output) -> Result<Exit, AppError> {
    match &args.id {
        None => {
            let width = CHECKS.iter().map(|c| c.id().len()).max().unwrap_or(0);
            let mut text = String::new();
            for c in CHECKS {
                text.push_str(&format!("{:<width$}  {}\n", c.id(), summary_of(*c)));
            }
            out.print(&text);
            Ok(Exit::Pass)
        }
        Some(id) => match find(id) {
            Some(c) => {
                out.print(&format!("{}\n\n{}\n", c.id(), doc_text(c)));
                Ok(Exit::Pass)
            }
            None => Err(AppError::UnknownCheck { id: id.clone() }),
        },
    }
}
