//! Train/validation splits.
//!
//! Recordings of one patient are strongly correlated, so validation scores
//! are only honest when no patient is on both sides: [`patient_split`] is
//! the default. [`official_split`] reads ICBHI's official train/test
//! assignment; [`random_split`] ignores patients and says so.

use std::collections::{BTreeMap, HashMap, HashSet};

use rand::SeedableRng;
use rand::seq::SliceRandom;
use rand_chacha::ChaCha8Rng;
use serde::{Deserialize, Serialize};

use crate::recording::{Dataset, DatasetKind, Recording, Split};

/// Validation fraction used where none is given (segment manifests):
/// a fifth of the records, a common choice for SPRSound's 1949 records.
pub const DEFAULT_VAL_FRACTION: f64 = 0.2;
/// Seed used where none is given (segment manifests). Arbitrary, fixed so
/// that manifests written on different days agree.
pub const DEFAULT_SPLIT_SEED: u64 = 2022;

/// Indices into the recording slice a split was made from, each side sorted.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct SplitIndices {
    /// Training recordings.
    pub train: Vec<usize>,
    /// Validation (or, from [`OfficialSplit::to_indices`], test) recordings.
    pub val: Vec<usize>,
}

/// ICBHI 2017 official split as indices.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct OfficialSplit {
    /// Recordings the split file marks `train`.
    pub train: Vec<usize>,
    /// Recordings the split file marks `test`.
    pub test: Vec<usize>,
    /// Recordings the split file does not list (each already has an issue).
    pub unassigned: Vec<usize>,
}

impl OfficialSplit {
    /// `train` → `train`, `test` → `val`; unassigned recordings are left out.
    pub fn to_indices(&self) -> SplitIndices {
        SplitIndices {
            train: self.train.clone(),
            val: self.test.clone(),
        }
    }
}

/// The official split of each recording (ICBHI).
pub fn official_split(recs: &[Recording]) -> OfficialSplit {
    let mut out = OfficialSplit::default();
    for (i, r) in recs.iter().enumerate() {
        match r.official_split {
            Some(Split::Train) => out.train.push(i),
            Some(Split::Test) => out.test.push(i),
            None => out.unassigned.push(i),
        }
    }
    out
}

/// Labels used for stratification: the record label if there is one,
/// otherwise the distinct event labels.
pub(crate) fn label_keys(r: &Recording) -> Vec<String> {
    if let Some(l) = r.record_label {
        return vec![format!("record:{l}")];
    }
    let mut keys: Vec<String> = r
        .events
        .iter()
        .map(|e| format!("event:{}", e.label))
        .collect();
    keys.sort_unstable();
    keys.dedup();
    keys
}

/// Splits recordings patient-wise: every patient's recordings land on one
/// side, about `val_fraction` of the *recordings* go to validation, and the
/// result depends only on the recordings and `seed`.
///
/// Stratified: each patient is put in the stratum of the rarest label among
/// their recordings (record label, else event labels; rarity = number of
/// recordings with it), so patients with rare classes are spread over both
/// sides. Within a stratum patients are shuffled (`ChaCha8Rng` from `seed`)
/// and taken greedily while that brings the stratum's validation count closer
/// to `val_fraction` of it; a stratum with two or more patients always gives
/// at least one to validation (when `val_fraction > 0`), so validation sees
/// every class where that is possible. `val_fraction` is clamped to `[0, 1]`
/// (NaN counts as 0).
pub fn patient_split(recs: &[Recording], val_fraction: f64, seed: u64) -> SplitIndices {
    let frac = if val_fraction.is_nan() {
        0.0
    } else {
        val_fraction.clamp(0.0, 1.0)
    };
    let mut by_patient: BTreeMap<&str, Vec<usize>> = BTreeMap::new();
    for (i, r) in recs.iter().enumerate() {
        by_patient.entry(r.patient.as_str()).or_default().push(i);
    }
    let keys: Vec<Vec<String>> = recs.iter().map(label_keys).collect();
    let mut freq: HashMap<&str, usize> = HashMap::new();
    for k in keys.iter().flatten() {
        *freq.entry(k.as_str()).or_default() += 1;
    }
    // stratum (rarity, key) → patients, in patient order before shuffling
    let mut strata: BTreeMap<(usize, &str), Vec<&str>> = BTreeMap::new();
    for (patient, idx) in &by_patient {
        let stratum = idx
            .iter()
            .flat_map(|&i| keys[i].iter())
            .map(|k| (freq.get(k.as_str()).copied().unwrap_or(0), k.as_str()))
            .min()
            .unwrap_or((usize::MAX, ""));
        strata.entry(stratum).or_default().push(patient);
    }

    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    let mut val_patients: HashSet<&str> = HashSet::new();
    for patients in strata.values_mut() {
        patients.shuffle(&mut rng);
        let size = |p: &str| by_patient.get(p).map_or(0, Vec::len);
        let total: usize = patients.iter().map(|p| size(p)).sum();
        let target = frac * total as f64;
        let mut taken = 0usize;
        for p in patients.iter() {
            let n = size(p);
            if (taken + n) as f64 <= target + n as f64 / 2.0 {
                taken += n;
                val_patients.insert(p);
            }
        }
        if taken == 0 && target > 0.0 && patients.len() >= 2 {
            // Smallest patient, first in shuffled order among equals.
            if let Some(p) = patients.iter().min_by_key(|p| size(p)) {
                val_patients.insert(p);
            }
        }
        if frac < 1.0 && patients.iter().all(|p| val_patients.contains(p)) && patients.len() >= 2 {
            // Keep every class in training too.
            if let Some(p) = patients.iter().max_by_key(|p| size(p)) {
                val_patients.remove(p);
            }
        }
    }

    let mut out = SplitIndices::default();
    for (i, r) in recs.iter().enumerate() {
        if val_patients.contains(r.patient.as_str()) {
            out.val.push(i);
        } else {
            out.train.push(i);
        }
    }
    out
}

/// Splits recordings at random, ignoring patients. Returns the split and a
/// warning (also logged with `tracing`) saying how many patients ended up on
/// both sides: scores on such a split are optimistic. Prefer
/// [`patient_split`].
pub fn random_split(recs: &[Recording], val_fraction: f64, seed: u64) -> (SplitIndices, String) {
    let frac = if val_fraction.is_nan() {
        0.0
    } else {
        val_fraction.clamp(0.0, 1.0)
    };
    let mut idx: Vec<usize> = (0..recs.len()).collect();
    idx.shuffle(&mut ChaCha8Rng::seed_from_u64(seed));
    let n_val = (frac * recs.len() as f64).round() as usize;
    let mut val = idx[..n_val.min(idx.len())].to_vec();
    let mut train = idx[n_val.min(idx.len())..].to_vec();
    val.sort_unstable();
    train.sort_unstable();
    let patients =
        |v: &[usize]| -> HashSet<&str> { v.iter().map(|&i| recs[i].patient.as_str()).collect() };
    let (pt, pv) = (patients(&train), patients(&val));
    let leaked = pt.intersection(&pv).count();
    let warning = format!(
        "random split ignores patients: {leaked} of {} patients have recordings in both train \
         and validation (patient leakage); validation scores will be optimistic, use a \
         patient-wise split for honest numbers",
        pt.union(&pv).count()
    );
    tracing::warn!("{warning}");
    (SplitIndices { train, val }, warning)
}

/// The split name of each recording for manifests: `train`/`test` from the
/// official split when the dataset has one (ICBHI; `""` for unlisted
/// recordings), `""` for unlabelled folders, otherwise `train`/`val` from
/// [`patient_split`] with `val_fraction` and `seed`.
pub fn split_column(dataset: &Dataset, val_fraction: f64, seed: u64) -> Vec<&'static str> {
    let recs = &dataset.recordings;
    if dataset.kind == DatasetKind::Folder {
        return vec![""; recs.len()];
    }
    if recs.iter().any(|r| r.official_split.is_some()) {
        return recs
            .iter()
            .map(|r| r.official_split.map_or("", Split::as_str))
            .collect();
    }
    let s = patient_split(recs, val_fraction, seed);
    let mut out = vec!["train"; recs.len()];
    for i in s.val {
        out[i] = "val";
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::label::RecordLabel;

    fn recs() -> Vec<Recording> {
        // 40 patients, 1–5 records each; a few rare labels.
        let mut v = Vec::new();
        for p in 0..40 {
            for k in 0..(1 + p % 5) {
                let mut r =
                    Recording::new(format!("{p}_{k}"), DatasetKind::SprSound, p.to_string());
                r.record_label = Some(match p % 10 {
                    0 => RecordLabel::CasDas,
                    1 | 2 => RecordLabel::Das,
                    3 => RecordLabel::PoorQuality,
                    4 => RecordLabel::Cas,
                    _ => RecordLabel::Normal,
                });
                v.push(r);
            }
        }
        v
    }

    #[test]
    fn patient_split_is_disjoint_deterministic_and_near_fraction() {
        let r = recs();
        let a = patient_split(&r, 0.25, 7);
        assert_eq!(a, patient_split(&r, 0.25, 7));
        assert_ne!(a, patient_split(&r, 0.25, 8));
        assert_eq!(a.train.len() + a.val.len(), r.len());
        let pt: HashSet<_> = a.train.iter().map(|&i| &r[i].patient).collect();
        assert!(a.val.iter().all(|&i| !pt.contains(&r[i].patient)));
        let frac = a.val.len() as f64 / r.len() as f64;
        assert!((frac - 0.25).abs() < 0.06, "{frac}");
        for l in RecordLabel::ALL {
            assert!(
                a.val.iter().any(|&i| r[i].record_label == Some(l)),
                "{l} missing"
            );
            assert!(
                a.train.iter().any(|&i| r[i].record_label == Some(l)),
                "{l} missing"
            );
        }
    }

    #[test]
    fn fraction_edges() {
        let r = recs();
        assert!(patient_split(&r, 0.0, 1).val.is_empty());
        assert!(patient_split(&r, f64::NAN, 1).val.is_empty());
        assert!(patient_split(&r, 1.0, 1).train.is_empty());
        assert_eq!(patient_split(&[], 0.2, 1), SplitIndices::default());
    }

    #[test]
    fn random_split_warns_about_leakage() {
        let r = recs();
        let (s, w) = random_split(&r, 0.2, 3);
        assert_eq!(s.val.len(), (0.2 * r.len() as f64).round() as usize);
        assert!(w.contains("patient leakage"), "{w}");
    }
}
