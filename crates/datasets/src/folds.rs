//! Patient-wise K-fold assignment for cross-validation.
//!
//! Every patient's recordings land in one fold, folds hold about the same number of
//! recordings, and patients with rare classes are spread over the folds: patients are
//! grouped by the rarest label among their recordings (as [`crate::patient_split`] does),
//! shuffled within a group by a seeded generator, and each goes to the fold that holds the
//! fewest recordings of that group so far (then the fewest recordings overall, then the
//! lowest index). The result depends only on the recordings, `k` and the seed.

use std::collections::{BTreeMap, HashMap};

use rand::SeedableRng;
use rand::seq::SliceRandom;
use rand_chacha::ChaCha8Rng;

use crate::recording::Recording;
use crate::split::label_keys;

/// The fold (0..k) of each recording of `recs`, patient-wise and stratified.
///
/// `k` is clamped to at least 1; with fewer patients than folds some folds stay empty.
pub fn patient_folds(recs: &[Recording], k: usize, seed: u64) -> Vec<usize> {
    let k = k.max(1);
    let mut by_patient: BTreeMap<&str, Vec<usize>> = BTreeMap::new();
    for (i, r) in recs.iter().enumerate() {
        by_patient.entry(r.patient.as_str()).or_default().push(i);
    }
    let keys: Vec<Vec<String>> = recs.iter().map(label_keys).collect();
    let mut freq: HashMap<&str, usize> = HashMap::new();
    for key in keys.iter().flatten() {
        *freq.entry(key.as_str()).or_default() += 1;
    }
    // (rarity, key) of a patient's rarest label → patients, in patient order.
    let mut strata: BTreeMap<(usize, &str), Vec<&str>> = BTreeMap::new();
    for (patient, indices) in &by_patient {
        let stratum = indices
            .iter()
            .flat_map(|&i| keys[i].iter())
            .map(|key| (freq.get(key.as_str()).copied().unwrap_or(0), key.as_str()))
            .min()
            .unwrap_or((usize::MAX, ""));
        strata.entry(stratum).or_default().push(patient);
    }

    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    let mut fold_of_patient: HashMap<&str, usize> = HashMap::new();
    let mut fold_sizes = vec![0usize; k];
    for patients in strata.values_mut() {
        patients.shuffle(&mut rng);
        let mut stratum_sizes = vec![0usize; k];
        for &patient in patients.iter() {
            let n = by_patient.get(patient).map_or(0, Vec::len);
            let fold = (0..k)
                .min_by_key(|&f| (stratum_sizes[f], fold_sizes[f], f))
                .unwrap_or(0);
            stratum_sizes[fold] += n;
            fold_sizes[fold] += n;
            fold_of_patient.insert(patient, fold);
        }
    }
    recs.iter()
        .map(|r| {
            fold_of_patient
                .get(r.patient.as_str())
                .copied()
                .unwrap_or(0)
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use std::collections::HashSet;

    use super::*;
    use crate::label::RecordLabel;
    use crate::recording::DatasetKind;

    fn recordings() -> Vec<Recording> {
        // 23 patients with 1–4 recordings; every fifth patient's records are rare (CAS).
        let mut recs = Vec::new();
        for p in 0..23 {
            for r in 0..(1 + p % 4) {
                let mut rec =
                    Recording::new(format!("{p}_{r}"), DatasetKind::SprSound, format!("p{p}"));
                rec.record_label = Some(if p % 5 == 0 {
                    RecordLabel::Cas
                } else {
                    RecordLabel::Normal
                });
                recs.push(rec);
            }
        }
        recs
    }

    #[test]
    fn no_patient_is_in_two_folds_and_folds_are_balanced() {
        let recs = recordings();
        let folds = patient_folds(&recs, 5, 7);
        assert_eq!(folds.len(), recs.len());
        let mut fold_of: HashMap<&str, usize> = HashMap::new();
        for (r, &f) in recs.iter().zip(&folds) {
            assert!(f < 5);
            let first = *fold_of.entry(r.patient.as_str()).or_insert(f);
            assert_eq!(first, f, "patient {} in two folds", r.patient);
        }
        let mut sizes = [0usize; 5];
        folds.iter().for_each(|&f| sizes[f] += 1);
        let (min, max) = (sizes.iter().min().unwrap(), sizes.iter().max().unwrap());
        assert!(max - min <= 4, "fold sizes {sizes:?}");
        // The rare class (5 patients) is spread over all five folds.
        let rare: HashSet<usize> = recs
            .iter()
            .zip(&folds)
            .filter(|(r, _)| r.record_label == Some(RecordLabel::Cas))
            .map(|(_, &f)| f)
            .collect();
        assert_eq!(rare.len(), 5, "rare patients in folds {rare:?}");
    }

    #[test]
    fn the_assignment_depends_only_on_the_recordings_and_the_seed() {
        let recs = recordings();
        assert_eq!(patient_folds(&recs, 5, 7), patient_folds(&recs, 5, 7));
        assert_ne!(patient_folds(&recs, 5, 7), patient_folds(&recs, 5, 8));
        // Order of the input does not matter for which patients go together.
        let mut reversed = recs.clone();
        reversed.reverse();
        let a = patient_folds(&recs, 3, 1);
        let b = patient_folds(&reversed, 3, 1);
        let fold = |recs: &[Recording], folds: &[usize], id: &str| {
            folds[recs.iter().position(|r| r.id == id).unwrap()]
        };
        for r in &recs {
            assert_eq!(fold(&recs, &a, &r.id), fold(&reversed, &b, &r.id));
        }
        assert!(patient_folds(&recs, 0, 1).iter().all(|&f| f == 0));
    }
}
