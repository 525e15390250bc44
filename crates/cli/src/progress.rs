//! Progress bars and problem reports shared by the subcommands.

use std::time::Duration;

use indicatif::{ProgressBar, ProgressStyle};
use lungsound_datasets::{Issue, Severity};

/// A progress bar on stderr for `total` items, hidden when stderr is not a
/// terminal (indicatif decides), so logs and CI output stay clean.
pub fn bar(total: u64, what: &str) -> ProgressBar {
    let bar = ProgressBar::new(total);
    let style = ProgressStyle::with_template(
        "{prefix:>10} [{elapsed_precise}] {wide_bar:.cyan/blue} {pos}/{len} {msg} (eta {eta})",
    )
    .unwrap_or_else(|_| ProgressStyle::default_bar());
    bar.set_style(style.progress_chars("=> "));
    bar.set_prefix(what.to_owned());
    bar.enable_steady_tick(Duration::from_millis(200));
    bar
}

/// Prints each issue on stderr (`warning: path:line: message`) and returns
/// how many of them are problems (warnings and errors, not notes).
pub fn print_issues<'a>(issues: impl IntoIterator<Item = &'a Issue>) -> usize {
    let mut problems = 0;
    for issue in issues {
        let level = match issue.severity {
            Severity::Info => "note",
            Severity::Warning => "warning",
            Severity::Error => "error",
        };
        if issue.severity != Severity::Info {
            problems += 1;
        }
        match issue.line {
            Some(line) => eprintln!(
                "{level}: {}:{line}: {}",
                issue.path.display(),
                issue.message
            ),
            None => eprintln!("{level}: {}: {}", issue.path.display(), issue.message),
        }
    }
    problems
}

/// One closing line about skipped inputs, printed only when there were some.
pub fn print_problem_summary(problems: usize, what: &str) {
    if problems > 0 {
        eprintln!(
            "lungsound: {problems} problem(s) while {what}; the affected items were skipped \
             and everything else was processed (see the messages above)"
        );
    }
}

/// Runs `work` for one item of a batch so that a panic inside it (a bug in a decoder, say)
/// becomes an error naming `item` and the batch goes on. The last line of defence: every
/// known bad input is an ordinary error long before this.
pub fn isolate<T>(item: &std::path::Path, work: impl FnOnce() -> T) -> Result<T, String> {
    std::panic::catch_unwind(std::panic::AssertUnwindSafe(work)).map_err(|payload| {
        let what = payload
            .downcast_ref::<&str>()
            .map(|s| (*s).to_string())
            .or_else(|| payload.downcast_ref::<String>().cloned())
            .unwrap_or_else(|| "unknown panic".to_string());
        format!(
            "{}: internal error while reading this file ({what}); skipped — please report it",
            item.display()
        )
    })
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[test]
    fn a_panicking_item_becomes_an_error_naming_it() {
        let err = isolate(std::path::Path::new("bad.wav"), || -> u32 {
            panic!("index out of bounds")
        })
        .unwrap_err();
        assert!(err.starts_with("bad.wav: internal error"), "{err}");
        assert!(err.contains("index out of bounds"), "{err}");
        assert_eq!(isolate(std::path::Path::new("ok.wav"), || 7), Ok(7));
    }
}
