//! How a subcommand finished, and the exit code that follows from it.

use std::io::IsTerminal;
use std::process::ExitCode;

/// The result of a subcommand that ran to the end.
///
/// Problems with individual inputs (a corrupt recording, a malformed
/// annotation line) do not stop a batch: the subcommand reports each one as it
/// goes, prints a summary, and counts them here. With `--strict` any problem
/// turns into exit status 1.
#[derive(Debug, Default, Clone, Copy)]
pub struct Outcome {
    /// Inputs that were skipped or only partly used because of a problem.
    pub problems: usize,
}

impl Outcome {
    /// A run in which nothing went wrong.
    pub fn clean() -> Self {
        Self { problems: 0 }
    }

    /// A run that skipped `problems` inputs.
    pub fn with_problems(problems: usize) -> Self {
        Self { problems }
    }

    /// Exit status: 0, or 1 when `strict` and there were problems.
    pub fn exit_code(self, strict: bool) -> ExitCode {
        if strict && self.problems > 0 {
            eprintln!(
                "lungsound: {} problem(s) found; exiting with status 1 (--strict)",
                self.problems
            );
            ExitCode::from(1)
        } else {
            ExitCode::SUCCESS
        }
    }
}

/// The flags every command takes, in both binaries (`lungsound` and `lungsound-torch`).
#[derive(Debug, clap::Args)]
pub struct GlobalArgs {
    /// Exit with status 1 when any input was skipped because of a problem
    /// (by default problems are reported and the batch goes on).
    #[arg(long, global = true)]
    pub strict: bool,
    /// More log output (-v: debug, -vv: trace). `RUST_LOG` overrides it.
    #[arg(short, long, global = true, action = clap::ArgAction::Count)]
    pub verbose: u8,
}

/// The exit code of a finished command: the outcome's, or 2 after printing the error with
/// each cause once (a closed pipe, as from `| head`, is a normal end).
pub fn finish(result: anyhow::Result<Outcome>, strict: bool) -> ExitCode {
    match result {
        Ok(outcome) => outcome.exit_code(strict),
        Err(err) => {
            if is_broken_pipe(&err) {
                return ExitCode::SUCCESS;
            }
            eprintln!("error: {}", error_chain(&err));
            ExitCode::from(2)
        }
    }
}

/// A reader that stops early (`lungsound predict ... | head`) closes stdout; `println!` then
/// panics with "failed printing to stdout: Broken pipe". That is a normal end, as for any Unix
/// tool: exit quietly with status 0 instead of a panic message. Other panics keep the default
/// report.
pub fn quiet_on_closed_stdout() {
    let default = std::panic::take_hook();
    std::panic::set_hook(Box::new(move |info| {
        let message = info
            .payload()
            .downcast_ref::<String>()
            .map(String::as_str)
            .or_else(|| info.payload().downcast_ref::<&str>().copied())
            .unwrap_or("");
        if message.contains("failed printing to stdout") && message.contains("Broken pipe") {
            std::process::exit(0);
        }
        default(info);
    }));
}

/// Log lines on stderr: warnings by default, `-v` debug, `-vv` trace; `RUST_LOG` overrides.
pub fn init_logging(verbose: u8) {
    let default = match verbose {
        0 => "warn",
        1 => "debug",
        _ => "trace",
    };
    let filter = tracing_subscriber::EnvFilter::try_from_default_env()
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new(default));
    tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        .with_ansi(stderr_wants_colour())
        .with_target(false)
        .init();
}

fn is_broken_pipe(err: &anyhow::Error) -> bool {
    err.chain().any(|cause| {
        cause
            .downcast_ref::<std::io::Error>()
            .is_some_and(|io| io.kind() == std::io::ErrorKind::BrokenPipe)
    })
}

/// `err` and its causes joined by ": ", each cause once: a cause whose text the message
/// already quotes (`cannot read "x.flac": No such file ...` wrapping that I/O error) is not
/// repeated.
pub fn error_chain(err: &anyhow::Error) -> String {
    let mut text = String::new();
    for cause in err.chain() {
        let message = cause.to_string();
        if text.contains(&message) {
            continue;
        }
        if !text.is_empty() {
            text.push_str(": ");
        }
        text.push_str(&message);
    }
    text
}

/// Colour in log lines only on a terminal, and never when `NO_COLOR` is set
/// (<https://no-color.org>): redirected stderr gets plain text.
pub fn stderr_wants_colour() -> bool {
    std::env::var_os("NO_COLOR").is_none_or(|v| v.is_empty()) && std::io::stderr().is_terminal()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn each_cause_is_printed_once() {
        let io = std::io::Error::new(std::io::ErrorKind::NotFound, "No such file or directory");
        let read =
            anyhow::Error::new(io).context("cannot read \"nope.flac\": No such file or directory");
        assert_eq!(
            error_chain(&read),
            "cannot read \"nope.flac\": No such file or directory"
        );
        let wrapped = read.context("cannot compute features");
        assert_eq!(
            error_chain(&wrapped),
            "cannot compute features: cannot read \"nope.flac\": No such file or directory"
        );
    }
}
