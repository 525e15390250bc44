//! Helpers: fixture paths, temp copies, synthetic audio.

use std::fs;
use std::path::{Path, PathBuf};

use lungsound_datasets::Issue;

/// `tests/fixtures/<name>`.
pub fn fixture(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures")
        .join(name)
}

/// Recursively copies `src` into `dst`.
pub fn copy_dir(src: &Path, dst: &Path) {
    fs::create_dir_all(dst).unwrap();
    for e in fs::read_dir(src).unwrap() {
        let e = e.unwrap();
        let to = dst.join(e.file_name());
        if e.file_type().unwrap().is_dir() {
            copy_dir(&e.path(), &to);
        } else {
            fs::copy(e.path(), to).unwrap();
        }
    }
}

/// A temp copy of `tests/fixtures/<name>`; returns the guard and the copy's path.
pub fn fixture_copy(name: &str) -> (tempfile::TempDir, PathBuf) {
    let tmp = lungsound_testutil::temp_dir();
    let dst = tmp.path().join(name);
    copy_dir(&fixture(name), &dst);
    (tmp, dst)
}

/// Writes a 16-bit WAV of a quiet 440 Hz sine at `path`.
pub fn write_sine(path: &Path, duration_s: f64, sample_rate: u32) {
    let x = lungsound_testutil::sine(440.0, sample_rate, duration_s, 0.3);
    lungsound_testutil::write_wav_i16(path, &x, sample_rate);
}

/// Issues whose path ends with `file_name`.
pub fn issues_for<'a>(issues: &'a [Issue], file_name: &str) -> Vec<&'a Issue> {
    issues
        .iter()
        .filter(|i| i.path.file_name().is_some_and(|n| n == file_name))
        .collect()
}
