//! How a subcommand finished, and the exit code that follows from it.

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
