//! Configuration errors: one sentence with the file, line and column,
//! because the user's next action is to open that line.

/// A configuration error: nothing was checked (exit 2).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{}{message}", location_prefix(.path, *.line, *.column))]
pub struct ConfigError {
    /// The config file as shown.
    pub path: String,
    /// 1-based line, where known.
    pub line: Option<usize>,
    /// 1-based column, where known.
    pub column: Option<usize>,
    /// One sentence.
    pub message: String,
}

fn location_prefix(path: &str, line: Option<usize>, column: Option<usize>) -> String {
    match (line, column) {
        (Some(l), Some(c)) => format!("{path}:{l}:{c}: "),
        (Some(l), None) => format!("{path}:{l}: "),
        _ if path.is_empty() => String::new(),
        _ => format!("{path}: "),
    }
}

impl ConfigError {
    /// An error about the file as a whole.
    pub fn file(path: impl Into<String>, message: impl Into<String>) -> Self {
        ConfigError {
            path: path.into(),
            line: None,
            column: None,
            message: message.into(),
        }
    }
}
