//! A plain folder of the user's own recordings: every `.wav`/`.flac` below
//! it (recursively), no labels, one patient per file (patient = file stem).

use std::collections::HashMap;
use std::path::{Component, Path};

use crate::Error;
use crate::recording::{Dataset, DatasetKind, Issue, Recording};
use crate::scan::{list_files, stem};

/// How deep below the given folder audio is searched.
const MAX_DEPTH: usize = crate::DETECT_DEPTH;

/// Loads every WAV/FLAC file below `dir` as an unlabelled recording.
///
/// `id` is the file stem; when two files share a stem, both get their path
/// relative to `dir` (without extension, separators as `_`) as id instead,
/// with an info issue, so ids — and the clip names derived from them — stay
/// unique. Audio is not opened here.
pub fn load_folder(dir: &Path) -> Result<Dataset, Error> {
    let (files, mut issues) = list_files(dir, MAX_DEPTH)?;
    let audio: Vec<_> = files
        .into_iter()
        .filter(|f| lungsound_audio::is_audio_path(f))
        .collect();
    if audio.is_empty() {
        return Err(Error::NotADataset {
            path: dir.to_path_buf(),
            reason: "no .wav or .flac files".into(),
        });
    }
    let mut stem_count: HashMap<String, usize> = HashMap::new();
    for f in &audio {
        *stem_count.entry(stem(f)).or_default() += 1;
    }
    let mut recordings: Vec<Recording> = audio
        .into_iter()
        .map(|f| {
            let s = stem(&f);
            let id = if stem_count.get(&s).copied().unwrap_or(0) > 1 {
                let id = relative_id(&f, dir);
                issues.push(Issue::info(
                    &f,
                    format!("several files are named {s}; this one gets id {id}"),
                ));
                id
            } else {
                s.clone()
            };
            let mut r = Recording::new(id, DatasetKind::Folder, s);
            r.audio_path = Some(f);
            r
        })
        .collect();
    recordings.sort_by(|a, b| a.id.cmp(&b.id));
    Ok(Dataset {
        kind: DatasetKind::Folder,
        root: dir.to_path_buf(),
        recordings,
        issues,
    })
}

/// `sub/dir/name.wav` below `root` → `sub_dir_name`.
fn relative_id(path: &Path, root: &Path) -> String {
    let rel = path.strip_prefix(root).unwrap_or(path).with_extension("");
    rel.components()
        .filter_map(|c| match c {
            Component::Normal(s) => Some(s.to_string_lossy().into_owned()),
            _ => None,
        })
        .collect::<Vec<_>>()
        .join("_")
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::fs;

    #[test]
    fn duplicate_stems_get_unique_ids() {
        let tmp = tempfile::tempdir().unwrap();
        let root = tmp.path();
        fs::create_dir_all(root.join("a")).unwrap();
        fs::create_dir_all(root.join("b")).unwrap();
        fs::write(root.join("a/rec.wav"), b"").unwrap();
        fs::write(root.join("b/rec.flac"), b"").unwrap();
        fs::write(root.join("other.WAV"), b"").unwrap();
        fs::write(root.join("notes.txt"), b"").unwrap();
        let ds = load_folder(root).unwrap();
        let ids: Vec<&str> = ds.recordings.iter().map(|r| r.id.as_str()).collect();
        assert_eq!(ids, vec!["a_rec", "b_rec", "other"]);
        assert_eq!(ds.recordings[0].patient, "rec");
        assert_eq!(ds.issues.len(), 2);
    }

    #[test]
    fn empty_folder_is_not_a_dataset() {
        let tmp = tempfile::tempdir().unwrap();
        assert!(matches!(
            load_folder(tmp.path()),
            Err(Error::NotADataset { .. })
        ));
    }
}
