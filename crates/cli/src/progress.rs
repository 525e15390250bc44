//! Progress bars and problem reports shared by the subcommands.

use std::time::Duration;

use std::io::IsTerminal;
use std::sync::Mutex;
use std::time::Instant;

use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle, TermLike};
use lungsound_datasets::{Issue, Severity};

/// Seconds between plain progress lines when stderr is not a terminal; the environment
/// variable `LUNGSOUND_PROGRESS_SECONDS` overrides it (0: every update).
pub const PLAIN_PROGRESS_SECONDS: u64 = 10;

/// A progress bar on stderr for `total` items. On a terminal it is a live bar; under a pipe,
/// in CI or in a log file it is a plain line (`features: 120/400 (30 s elapsed, eta 70 s)`)
/// every [`PLAIN_PROGRESS_SECONDS`], so a long step is never silent and no control codes
/// end up in files.
pub fn bar(total: u64, what: &str) -> ProgressBar {
    if !std::io::stderr().is_terminal() {
        let every = std::env::var("LUNGSOUND_PROGRESS_SECONDS")
            .ok()
            .and_then(|v| v.parse().ok())
            .unwrap_or(PLAIN_PROGRESS_SECONDS);
        let bar = ProgressBar::with_draw_target(
            Some(total),
            ProgressDrawTarget::term_like_with_hz(Box::new(PlainLines::every(every)), 1),
        );
        if let Ok(style) =
            ProgressStyle::with_template("{prefix}: {pos}/{len} ({elapsed} elapsed, eta {eta})")
        {
            bar.set_style(style);
        }
        bar.set_prefix(what.to_owned());
        bar.enable_steady_tick(Duration::from_secs(1));
        return bar;
    }
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

/// A "terminal" for indicatif that prints the bar's text as a plain stderr line at most once
/// every `every` seconds, ignoring cursor movement.
#[derive(Debug)]
struct PlainLines {
    every: Duration,
    last: Mutex<Option<Instant>>,
}

impl PlainLines {
    fn every(seconds: u64) -> Self {
        Self {
            every: Duration::from_secs(seconds),
            // The first line comes after `every`: a step shorter than that prints nothing.
            last: Mutex::new(Some(Instant::now())),
        }
    }

    fn print(&self, text: &str) {
        let text = text.trim();
        if text.is_empty() {
            return;
        }
        let Ok(mut last) = self.last.lock() else {
            return;
        };
        let due = last.is_none_or(|t| t.elapsed() >= self.every);
        if due {
            eprintln!("{text}");
            *last = Some(Instant::now());
        }
    }
}

impl TermLike for PlainLines {
    fn width(&self) -> u16 {
        100
    }
    fn move_cursor_up(&self, _: usize) -> std::io::Result<()> {
        Ok(())
    }
    fn move_cursor_down(&self, _: usize) -> std::io::Result<()> {
        Ok(())
    }
    fn move_cursor_right(&self, _: usize) -> std::io::Result<()> {
        Ok(())
    }
    fn move_cursor_left(&self, _: usize) -> std::io::Result<()> {
        Ok(())
    }
    fn write_line(&self, s: &str) -> std::io::Result<()> {
        self.print(s);
        Ok(())
    }
    fn write_str(&self, s: &str) -> std::io::Result<()> {
        self.print(s);
        Ok(())
    }
    fn clear_line(&self) -> std::io::Result<()> {
        Ok(())
    }
    fn flush(&self) -> std::io::Result<()> {
        Ok(())
    }
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
            "lungsound: {problems} problem(s) while {what}; each message above says what became \
             of its item (skipped, clipped or kept), and everything else was processed"
        );
    }
}

/// Runs `work` for one item of a batch so that a panic inside it (a bug in a decoder, say)
/// becomes an error message naming `item` and the batch goes on
/// ([`lungsound_features::export::isolate`]).
pub fn isolate<T>(item: &std::path::Path, work: impl FnOnce() -> T) -> Result<T, String> {
    lungsound_features::export::isolate(item, work).map_err(|e| e.to_string())
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
