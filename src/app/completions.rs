//! `driftgate completions SHELL` and `driftgate man`.
//!
//! Both are generated from the clap definition in `cli.rs`, so they never
//! drift from the flags the binary accepts. Packagers run them at build
//! time (`driftgate completions bash > driftgate.bash`, `driftgate man >
//! driftgate.1`).

use std::str::FromStr as _;

use clap::CommandFactory as _;
use clap_complete::Shell;

use super::{AppError, Exit, Output};
use crate::cli::{Cli, CompletionsArgs};

/// Prints completions for a shell.
pub fn command(args: &CompletionsArgs, out: &mut Output) -> Result<Exit, AppError> {
    let text = completions(&args.shell)?;
    out.print(&text);
    Ok(Exit::Pass)
}

/// The completion script for a shell name.
pub fn completions(shell: &str) -> Result<String, AppError> {
    let shell =
        Shell::from_str(&shell.to_ascii_lowercase()).map_err(|_| AppError::UnknownShell {
            shell: shell.to_string(),
        })?;
    let mut cmd = Cli::command();
    let mut buf = Vec::new();
    clap_complete::generate(shell, &mut cmd, "driftgate", &mut buf);
    String::from_utf8(buf).map_err(|e| AppError::Process {
        doing: "generating completions",
        cause: e.to_string(),
    })
}

/// Prints the man page.
pub fn man(out: &mut Output) -> Result<Exit, AppError> {
    out.print(&man_page()?);
    Ok(Exit::Pass)
}

/// The man page (roff): the commands, then the options of each (each
/// command takes its own flags, so one list at the top would mislead).
pub fn man_page() -> Result<String, AppError> {
    let fail = |e: std::io::Error| AppError::Process {
        doing: "generating the man page",
        cause: e.to_string(),
    };
    let mut cmd = Cli::command();
    cmd.build();
    let mut buf = Vec::new();
    clap_mangen::Man::new(cmd.clone())
        .render(&mut buf)
        .map_err(fail)?;
    let mut leaves = Vec::new();
    for sub in cmd.get_subcommands() {
        if sub.has_subcommands() {
            for leaf in sub.get_subcommands() {
                leaves.push((format!("{} {}", sub.get_name(), leaf.get_name()), leaf));
            }
        } else {
            leaves.push((sub.get_name().to_string(), sub));
        }
    }
    for (path, sub) in leaves {
        let mut part = Vec::new();
        clap_mangen::Man::new(sub.clone())
            .render_options_section(&mut part)
            .map_err(fail)?;
        let part = String::from_utf8_lossy(&part).replacen(
            ".SH OPTIONS",
            &format!(".SH \"OPTIONS OF DRIFTGATE {}\"", path.to_uppercase()),
            1,
        );
        buf.extend_from_slice(part.as_bytes());
    }
    String::from_utf8(buf).map_err(|e| AppError::Process {
        doing: "generating the man page",
        cause: e.to_string(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_shell_gets_a_script_naming_the_commands() {
        for (shell, marker) in [
            ("bash", "complete -F"),
            ("zsh", "#compdef driftgate"),
            ("fish", "complete -c driftgate"),
            ("elvish", "edit:completion:arg-completer[driftgate]"),
            ("powershell", "Register-ArgumentCompleter"),
            ("BASH", "complete -F"),
        ] {
            let text = completions(shell).unwrap();
            assert!(text.contains(marker), "{shell}: no {marker}");
            for sub in ["check", "watch", "init", "explain"] {
                assert!(text.contains(sub), "{shell}: no {sub}");
            }
        }
    }

    #[test]
    fn unknown_shell_is_a_usage_error() {
        let err = completions("tcsh").unwrap_err();
        assert_eq!(err.exit(), Exit::Usage);
        assert!(err.to_string().contains("bash, zsh, fish"));
    }

    #[test]
    fn man_page_is_roff_with_the_options() {
        let text = man_page().unwrap();
        assert!(text.contains(".TH driftgate"), "{text}");
        assert!(text.contains("\\-\\-config"));
        assert!(text.contains("watch"));
        assert!(
            text.contains(".SH \"OPTIONS OF DRIFTGATE CHECK\""),
            "{text}"
        );
        assert!(
            text.contains(".SH \"OPTIONS OF DRIFTGATE JWT VERIFY\""),
            "{text}"
        );
    }
}
