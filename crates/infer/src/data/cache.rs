//! The on-disk feature cache: one file per recording and feature setting.
//!
//! A file holds the f16 spectrograms of every clip of one recording (all its
//! annotated events, or all its windows), plus the clip spans and the clips
//! that could not be cut. Its name is `<recording>-<key>.lsf`, where the key
//! is an FNV-1a hash of the cache format version, the feature settings that
//! change the spectrograms (sample rate, spectrogram parameters, clip
//! length, padding, window hop), the clip level, the audio file's path,
//! size and modification time, and (for events) the annotated spans. Any
//! change gives a new key, so stale files are never read; they are simply
//! left behind (delete the folder to reclaim the space). Files are written
//! atomically, so concurrent runs sharing a cache are safe.
//!
//! Layout: `LSFC0001`, u32 LE header length, the JSON header
//! ([`CacheHeader`]), then `n_clips · n_freq · n_frames` f16 values (LE).

use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use crate::data::clips::ClipSpan;
use crate::error::{Error, Result};
use crate::fsutil;

const MAGIC: &[u8; 8] = b"LSFC0001";

/// Where cached features live (`None`: no caching, always compute).
#[derive(Debug, Clone, Default)]
pub struct FeatureCache {
    dir: Option<PathBuf>,
}

/// What a cache file says besides the values.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub(crate) struct CacheHeader {
    pub n_freq: usize,
    pub n_frames: usize,
    /// `[start_s, end_s, event_index or -1]` of each stored clip.
    pub spans: Vec<(f64, f64, i64)>,
    /// Clips that could not be cut: `(event_index or -1, message)`.
    pub dropped: Vec<(i64, String)>,
    /// Warnings about stored clips (an event clipped to the end of the
    /// audio; `-1`: the whole recording): `(event_index or -1, message)`.
    #[serde(default)]
    pub notes: Vec<(i64, String)>,
}

/// The clips of one recording: spans, f16 values, and the clips left out.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct RecordingClips {
    pub spans: Vec<ClipSpan>,
    pub values: Vec<u16>,
    /// Clips left out: `(event index, why)`, `why` ending in `; skipped`.
    pub dropped: Vec<(Option<usize>, String)>,
    /// Warnings about kept clips: `(event index, message)`; `None`: about
    /// the whole recording.
    pub notes: Vec<(Option<usize>, String)>,
}

impl RecordingClips {
    /// The notes then the dropped clips as messages (`event {i}: …`, a
    /// dropped window `window: …`, a recording-level note as it is).
    pub(crate) fn warnings(&self) -> Vec<String> {
        let notes = self.notes.iter().map(|(i, m)| match i {
            Some(i) => format!("event {i}: {m}"),
            None => m.clone(),
        });
        let dropped = self.dropped.iter().map(|(i, m)| match i {
            Some(i) => format!("event {i}: {m}"),
            None => format!("window: {m}"),
        });
        notes.chain(dropped).collect()
    }
}

impl FeatureCache {
    /// A cache in `dir` (created on first write).
    pub fn new(dir: impl Into<PathBuf>) -> Self {
        Self {
            dir: Some(dir.into()),
        }
    }

    /// No caching: features are computed every time.
    pub fn disabled() -> Self {
        Self { dir: None }
    }

    /// The folder, if caching.
    pub fn dir(&self) -> Option<&Path> {
        self.dir.as_deref()
    }

    /// Files and bytes the cache holds now (its `.lsf` files); `(0, 0)` when disabled or
    /// not yet written.
    pub fn usage(&self) -> (usize, u64) {
        self.files()
            .iter()
            .fold((0, 0), |(n, bytes), (_, size)| (n + 1, bytes + size))
    }

    /// Deletes the cache's `.lsf` files (nothing else in the folder); returns the files and
    /// bytes removed. Features are recomputed on the next run.
    ///
    /// # Errors
    /// A cache file that cannot be removed.
    pub fn clear(&self) -> Result<(usize, u64)> {
        let mut removed = (0, 0);
        for (path, size) in self.files() {
            std::fs::remove_file(&path).map_err(|e| Error::io(&path, e))?;
            removed = (removed.0 + 1, removed.1 + size);
        }
        Ok(removed)
    }

    fn files(&self) -> Vec<(PathBuf, u64)> {
        let Some(Ok(entries)) = self.dir.as_ref().map(std::fs::read_dir) else {
            return Vec::new();
        };
        entries
            .filter_map(|e| e.ok())
            .map(|e| e.path())
            .filter(|p| p.extension().is_some_and(|x| x == "lsf"))
            .filter_map(|p| {
                let size = std::fs::metadata(&p).ok()?.len();
                Some((p, size))
            })
            .collect()
    }

    /// The cache file for `recording_id` under `key`.
    pub(crate) fn path(&self, recording_id: &str, key: u64) -> Option<PathBuf> {
        let safe: String = recording_id
            .chars()
            .map(|c| {
                if c.is_ascii_alphanumeric() || "._-".contains(c) {
                    c
                } else {
                    '_'
                }
            })
            .collect();
        Some(self.dir.as_ref()?.join(format!("{safe}-{key:016x}.lsf")))
    }

    /// Reads a cache file; `None` when absent or unreadable (then it is recomputed).
    pub(crate) fn read(&self, path: &Path, shape: [usize; 2]) -> Option<RecordingClips> {
        let bytes = std::fs::read(path).ok()?;
        let parsed = parse(&bytes, shape);
        if parsed.is_none() {
            tracing::warn!("ignoring damaged feature cache file {}", path.display());
        }
        parsed
    }

    /// Writes a cache file atomically (creating the folder).
    pub(crate) fn write(
        &self,
        path: &Path,
        clips: &RecordingClips,
        shape: [usize; 2],
    ) -> Result<()> {
        if let Some(parent) = path.parent() {
            fsutil::create_dir_all(parent)?;
        }
        let header = CacheHeader {
            n_freq: shape[0],
            n_frames: shape[1],
            spans: clips
                .spans
                .iter()
                .map(|s| (s.start_s, s.end_s, s.event_index.map_or(-1, |i| i as i64)))
                .collect(),
            dropped: clips
                .dropped
                .iter()
                .map(|(i, m)| (i.map_or(-1, |i| i as i64), m.clone()))
                .collect(),
            notes: clips
                .notes
                .iter()
                .map(|(i, m)| (i.map_or(-1, |i| i as i64), m.clone()))
                .collect(),
        };
        let json = serde_json::to_vec(&header).map_err(|e| Error::json(path, e))?;
        let mut bytes = Vec::with_capacity(12 + json.len() + 2 * clips.values.len());
        bytes.extend_from_slice(MAGIC);
        bytes.extend_from_slice(&(json.len() as u32).to_le_bytes());
        bytes.extend_from_slice(&json);
        for v in &clips.values {
            bytes.extend_from_slice(&v.to_le_bytes());
        }
        fsutil::write_atomic(path, &bytes)
    }
}

fn parse(bytes: &[u8], shape: [usize; 2]) -> Option<RecordingClips> {
    let rest = bytes.strip_prefix(MAGIC.as_slice())?;
    let len = u32::from_le_bytes(rest.get(..4)?.try_into().ok()?) as usize;
    let header: CacheHeader = serde_json::from_slice(rest.get(4..4 + len)?).ok()?;
    let data = rest.get(4 + len..)?;
    let n = header.spans.len() * shape[0] * shape[1];
    if [header.n_freq, header.n_frames] != shape || data.len() != 2 * n {
        return None;
    }
    let values = data
        .chunks_exact(2)
        .map(|c| u16::from_le_bytes([c[0], c[1]]))
        .collect();
    let index = |i: i64| usize::try_from(i).ok();
    Some(RecordingClips {
        spans: header
            .spans
            .iter()
            .map(|&(start_s, end_s, i)| ClipSpan {
                start_s,
                end_s,
                event_index: index(i),
            })
            .collect(),
        values,
        dropped: header
            .dropped
            .into_iter()
            .map(|(i, m)| (index(i), m))
            .collect(),
        notes: header
            .notes
            .into_iter()
            .map(|(i, m)| (index(i), m))
            .collect(),
    })
}

/// The feature cache used when none is given: `RUN_DIR/../.cache/features`
/// (or `EVAL_DIR/../.cache/features`),
/// shared by the runs beside each other.
pub fn default_cache_dir(run_dir: &Path) -> PathBuf {
    let abs = std::path::absolute(run_dir).unwrap_or_else(|_| run_dir.to_path_buf());
    abs.parent().unwrap_or(&abs).join(".cache").join("features")
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    #[test]
    fn round_trip_and_shape_check() {
        let dir = tempfile::tempdir().unwrap();
        let cache = FeatureCache::new(dir.path().join("c"));
        let path = cache.path("a b/c", 0xabc).unwrap();
        assert!(path.ends_with("a_b_c-0000000000000abc.lsf"));
        let clips = RecordingClips {
            spans: vec![ClipSpan {
                start_s: 0.5,
                end_s: 1.25,
                event_index: Some(3),
            }],
            values: (0..6).collect(),
            dropped: vec![(Some(4), "past the end".into())],
            notes: vec![(None, "far past".into()), (Some(3), "clipped".into())],
        };
        cache.write(&path, &clips, [2, 3]).unwrap();
        assert_eq!(
            clips.warnings(),
            ["far past", "event 3: clipped", "event 4: past the end"]
        );
        assert_eq!(cache.read(&path, [2, 3]), Some(clips));
        assert_eq!(cache.read(&path, [3, 2]), None);
        std::fs::write(&path, b"LSFC0001garbage").unwrap();
        assert_eq!(cache.read(&path, [2, 3]), None);
        assert!(FeatureCache::disabled().path("a", 1).is_none());
    }

    #[test]
    fn usage_and_clear_touch_only_cache_files() {
        let dir = tempfile::tempdir().unwrap();
        let cache = FeatureCache::new(dir.path());
        assert_eq!(cache.usage(), (0, 0));
        std::fs::write(dir.path().join("a-1.lsf"), [0u8; 100]).unwrap();
        std::fs::write(dir.path().join("b-2.lsf"), [0u8; 50]).unwrap();
        std::fs::write(dir.path().join("notes.txt"), b"mine").unwrap();
        assert_eq!(cache.usage(), (2, 150));
        assert_eq!(cache.clear().unwrap(), (2, 150));
        assert_eq!(cache.usage(), (0, 0));
        assert!(dir.path().join("notes.txt").is_file());
        assert_eq!(FeatureCache::disabled().usage(), (0, 0));
    }
}
