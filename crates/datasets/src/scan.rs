//! Directory walking shared by the readers and [`detect`](crate::detect).

use std::fs;
use std::path::{Path, PathBuf};

use crate::{Error, Issue};

/// Files under `dir` (recursing at most `max_depth` levels below it), sorted
/// by path. Hidden entries (`.name`, including macOS `._name` resource
/// forks) are skipped; symbolic links to directories are not followed, so a
/// link loop cannot hang the walk. Unreadable subdirectories become issues.
pub(crate) fn list_files(
    dir: &Path,
    max_depth: usize,
) -> Result<(Vec<PathBuf>, Vec<Issue>), Error> {
    if !dir.is_dir() {
        return Err(Error::DirNotFound {
            path: dir.to_path_buf(),
        });
    }
    let mut files = Vec::new();
    let mut issues = Vec::new();
    let mut stack = vec![(dir.to_path_buf(), 0usize)];
    while let Some((d, depth)) = stack.pop() {
        let entries = match fs::read_dir(&d) {
            Ok(e) => e,
            // The top directory itself must be readable; below it, note and go on.
            Err(e) if depth == 0 => return Err(Error::io(&d, e)),
            Err(e) => {
                issues.push(Issue::warning(&d, format!("cannot read directory: {e}")));
                continue;
            }
        };
        for entry in entries {
            let entry = match entry {
                Ok(e) => e,
                Err(e) => {
                    issues.push(Issue::warning(
                        &d,
                        format!("cannot read directory entry: {e}"),
                    ));
                    continue;
                }
            };
            if entry.file_name().to_string_lossy().starts_with('.') {
                continue;
            }
            let path = entry.path();
            // `file_type` comes with the directory entry (no extra system call
            // on Linux) and does not follow symlinks; a link to a file counts.
            let Ok(ft) = entry.file_type() else { continue };
            if ft.is_dir() {
                if depth < max_depth {
                    stack.push((path, depth + 1));
                }
            } else if ft.is_file() || (ft.is_symlink() && path.is_file()) {
                files.push(path);
            }
        }
    }
    files.sort();
    Ok((files, issues))
}

/// Lowercased extension of a path (`""` when none).
pub(crate) fn extension_lower(path: &Path) -> String {
    path.extension()
        .map(|e| e.to_string_lossy().to_ascii_lowercase())
        .unwrap_or_default()
}

/// File stem as a `String` (lossy for non-UTF-8 names).
pub(crate) fn stem(path: &Path) -> String {
    path.file_stem()
        .map(|s| s.to_string_lossy().into_owned())
        .unwrap_or_default()
}

/// A file named `name` (ASCII case-insensitively) directly inside `dir`.
pub(crate) fn find_file_ci(dir: &Path, name: &str) -> Option<PathBuf> {
    let exact = dir.join(name);
    if exact.is_file() {
        return Some(exact);
    }
    let entries = fs::read_dir(dir).ok()?;
    let mut found: Vec<PathBuf> = entries
        .filter_map(Result::ok)
        .filter(|e| e.file_name().to_string_lossy().eq_ignore_ascii_case(name))
        .map(|e| e.path())
        .filter(|p| p.is_file())
        .collect();
    found.sort();
    found.into_iter().next()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lists_recursively_skipping_hidden_and_respecting_depth() {
        let tmp = tempfile::tempdir().unwrap();
        let root = tmp.path();
        fs::create_dir_all(root.join("a/b")).unwrap();
        fs::write(root.join("top.wav"), b"").unwrap();
        fs::write(root.join("._top.wav"), b"").unwrap();
        fs::write(root.join("a/mid.wav"), b"").unwrap();
        fs::write(root.join("a/b/deep.wav"), b"").unwrap();
        let (all, issues) = list_files(root, 8).unwrap();
        assert!(issues.is_empty());
        assert_eq!(all.len(), 3);
        let (shallow, _) = list_files(root, 1).unwrap();
        assert_eq!(shallow.len(), 2);
        assert!(matches!(
            list_files(&root.join("nope"), 1),
            Err(Error::DirNotFound { .. })
        ));
    }

    #[test]
    fn finds_files_case_insensitively() {
        let tmp = tempfile::tempdir().unwrap();
        fs::write(tmp.path().join("Demographic_Info.TXT"), b"").unwrap();
        assert!(find_file_ci(tmp.path(), "demographic_info.txt").is_some());
        assert!(find_file_ci(tmp.path(), "other.txt").is_none());
    }
}
