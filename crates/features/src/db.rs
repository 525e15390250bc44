//! Decibel conversion (`librosa.power_to_db` and `librosa.amplitude_to_db`).
//!
//! `power_to_db(S) = 10 log10(max(amin, S)) - 10 log10(max(amin, ref))`, then
//! clipped from below at `max - top_db`. `amplitude_to_db` is the same with
//! `20 log10` (librosa squares and calls `power_to_db` with `amin^2`, `ref^2`).

use ndarray::{Array, ArrayBase, Data, DataMut, Dimension};

use crate::error::{Error, invalid};

/// librosa's `amin` for power spectrograms (`power_to_db`): -100 dB.
pub const POWER_AMIN: f32 = 1e-10;
/// librosa's `amin` for magnitude spectrograms (`amplitude_to_db`): -100 dB.
pub const AMPLITUDE_AMIN: f32 = 1e-5;
/// librosa's `top_db`: the dynamic range kept below the maximum, in dB.
pub const TOP_DB: f32 = 80.0;

/// The reference that maps to 0 dB (librosa's `ref`).
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum DbRef {
    /// The spectrogram's own maximum (`ref=np.max`): the loudest bin is 0 dB.
    Max,
    /// A fixed value (`ref=1.0` is librosa's default); its absolute value is used.
    Value(f32),
}

fn check(amin: f32, top_db: Option<f32>) -> Result<(), Error> {
    if !(amin > 0.0 && amin.is_finite()) {
        return invalid!("amin must be > 0, got {amin}");
    }
    if let Some(top_db) = top_db
        && !(top_db >= 0.0 && top_db.is_finite())
    {
        return invalid!("top_db must be >= 0 (or None), got {top_db}");
    }
    Ok(())
}

/// `factor * log10(max(amin, x) / max(amin, ref))`, clipped at `max - top_db`, in place.
///
/// Amplitudes are taken as `|x|` (librosa's `np.abs(S)`); powers as they are
/// (a negative "power" falls to `amin`, as in librosa).
fn to_db_in_place<S, D>(
    s: &mut ArrayBase<S, D>,
    amplitude: bool,
    reference: DbRef,
    amin: f32,
    top_db: Option<f32>,
) where
    S: DataMut<Elem = f32>,
    D: Dimension,
{
    let (factor, value): (f32, fn(f32) -> f32) = if amplitude {
        (20.0, f32::abs)
    } else {
        (10.0, |x| x)
    };
    let ref_value = match reference {
        DbRef::Max => s.iter().fold(f32::NEG_INFINITY, |m, &x| m.max(value(x))),
        DbRef::Value(r) => r.abs(),
    };
    let offset = factor * ref_value.max(amin).log10();
    let mut peak = f32::NEG_INFINITY;
    s.mapv_inplace(|x| {
        let db = factor * value(x).max(amin).log10() - offset;
        peak = peak.max(db);
        db
    });
    if let Some(top_db) = top_db {
        let floor = peak - top_db;
        s.mapv_inplace(|x| x.max(floor));
    }
}

/// Power spectrogram → dB (`librosa.power_to_db(S, ref=..., amin=amin, top_db=top_db)`).
///
/// Typical call: `power_to_db(&mel, DbRef::Max, POWER_AMIN, Some(TOP_DB))`.
///
/// # Errors
/// [`Error::InvalidParameter`] when `amin <= 0` or `top_db < 0`.
pub fn power_to_db<S, D>(
    s: &ArrayBase<S, D>,
    reference: DbRef,
    amin: f32,
    top_db: Option<f32>,
) -> Result<Array<f32, D>, Error>
where
    S: Data<Elem = f32>,
    D: Dimension,
{
    let mut out = s.to_owned();
    power_to_db_in_place(&mut out, reference, amin, top_db)?;
    Ok(out)
}

/// [`power_to_db`] overwriting its input.
///
/// # Errors
/// As [`power_to_db`].
pub fn power_to_db_in_place<S, D>(
    s: &mut ArrayBase<S, D>,
    reference: DbRef,
    amin: f32,
    top_db: Option<f32>,
) -> Result<(), Error>
where
    S: DataMut<Elem = f32>,
    D: Dimension,
{
    check(amin, top_db)?;
    to_db_in_place(s, false, reference, amin, top_db);
    Ok(())
}

/// Magnitude spectrogram → dB (`librosa.amplitude_to_db(S, ref=..., amin=amin, top_db=top_db)`).
///
/// Typical call: `amplitude_to_db(&stft, DbRef::Max, AMPLITUDE_AMIN, Some(TOP_DB))`.
///
/// # Errors
/// [`Error::InvalidParameter`] when `amin <= 0` or `top_db < 0`.
pub fn amplitude_to_db<S, D>(
    s: &ArrayBase<S, D>,
    reference: DbRef,
    amin: f32,
    top_db: Option<f32>,
) -> Result<Array<f32, D>, Error>
where
    S: Data<Elem = f32>,
    D: Dimension,
{
    let mut out = s.to_owned();
    amplitude_to_db_in_place(&mut out, reference, amin, top_db)?;
    Ok(out)
}

/// [`amplitude_to_db`] overwriting its input.
///
/// # Errors
/// As [`amplitude_to_db`].
pub fn amplitude_to_db_in_place<S, D>(
    s: &mut ArrayBase<S, D>,
    reference: DbRef,
    amin: f32,
    top_db: Option<f32>,
) -> Result<(), Error>
where
    S: DataMut<Elem = f32>,
    D: Dimension,
{
    check(amin, top_db)?;
    to_db_in_place(s, true, reference, amin, top_db);
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use approx::assert_abs_diff_eq;
    use ndarray::array;

    #[test]
    fn power_to_db_with_max_reference_and_top_db() {
        let s = array![[1.0f32, 0.1], [1e-3, 1e-12]];
        let db = power_to_db(&s, DbRef::Max, POWER_AMIN, Some(TOP_DB)).expect("valid");
        assert_abs_diff_eq!(db[[0, 0]], 0.0);
        assert_abs_diff_eq!(db[[0, 1]], -10.0, epsilon = 1e-5);
        assert_abs_diff_eq!(db[[1, 0]], -30.0, epsilon = 1e-5);
        // 1e-12 is below amin (-100 dB) and then clipped at 0 - 80 dB.
        assert_abs_diff_eq!(db[[1, 1]], -80.0, epsilon = 1e-5);
        let raw = power_to_db(&s, DbRef::Value(1.0), POWER_AMIN, None).expect("valid");
        assert_abs_diff_eq!(raw[[1, 1]], -100.0, epsilon = 1e-4);
    }

    #[test]
    fn amplitude_to_db_is_20_log10() {
        let s = array![[2.0f32, 0.2], [0.02, 0.0]];
        let db = amplitude_to_db(&s, DbRef::Max, AMPLITUDE_AMIN, Some(TOP_DB)).expect("valid");
        assert_abs_diff_eq!(db[[0, 1]], -20.0, epsilon = 1e-5);
        assert_abs_diff_eq!(db[[1, 0]], -40.0, epsilon = 1e-5);
        assert_abs_diff_eq!(db[[1, 1]], -80.0, epsilon = 1e-5);
    }

    #[test]
    fn silence_maps_to_zero_db() {
        let s = ndarray::Array2::<f32>::zeros((3, 4));
        let db = power_to_db(&s, DbRef::Max, POWER_AMIN, Some(TOP_DB)).expect("valid");
        assert!(db.iter().all(|&x| x == 0.0));
    }

    #[test]
    fn bad_parameters_are_rejected() {
        let s = array![[1.0f32]];
        let err = power_to_db(&s, DbRef::Max, 0.0, None)
            .err()
            .map(|e| e.to_string());
        assert_eq!(
            err.as_deref(),
            Some("invalid feature parameter: amin must be > 0, got 0")
        );
        assert!(amplitude_to_db(&s, DbRef::Max, 1e-5, Some(-1.0)).is_err());
    }
}
