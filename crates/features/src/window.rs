//! Analysis windows, as librosa builds them.
//!
//! librosa 0.11 calls `scipy.signal.get_window("hann", win_length, fftbins=True)`
//! (a *periodic* Hann window, the first `win_length` points of a symmetric
//! window of length `win_length + 1`) and then `librosa.util.pad_center` to
//! `n_fft`. Both are reproduced here in `f64`, the precision librosa uses.

use std::f64::consts::PI;

/// Periodic Hann window of length `n` (`scipy.signal.get_window("hann", n, fftbins=True)`).
///
/// `w[k] = 0.5 - 0.5 cos(2 pi k / n)`, evaluated the way scipy does
/// (`0.5 + 0.5 cos(k * 2 pi / n - pi)`) so values agree to the last bit.
/// `n == 0` gives an empty window and `n == 1` gives `[1.0]`, like scipy.
pub fn hann(n: usize) -> Vec<f64> {
    if n <= 1 {
        return vec![1.0; n];
    }
    // scipy: fac = np.linspace(-pi, pi, n + 1)[:n]; w = 0.5 + 0.5 * cos(fac)
    let step = (PI - (-PI)) / n as f64;
    (0..n)
        .map(|k| 0.5 + 0.5 * (k as f64 * step + (-PI)).cos())
        .collect()
}

/// Centre `window` in a zero vector of length `size` (`librosa.util.pad_center`).
///
/// The left padding is `(size - window.len()) / 2` (floor), the rest goes to
/// the right. Returns `None` when the window is longer than `size`.
pub fn pad_center(window: &[f64], size: usize) -> Option<Vec<f64>> {
    let extra = size.checked_sub(window.len())?;
    let lpad = extra / 2;
    let mut out = vec![0.0; size];
    out[lpad..lpad + window.len()].copy_from_slice(window);
    Some(out)
}

#[cfg(test)]
mod tests {
    use super::*;
    use approx::assert_abs_diff_eq;

    #[test]
    fn hann_is_periodic() {
        let n = 16;
        let w = hann(n);
        // Periodic: starts at 0, peaks at n/2, no trailing zero.
        assert_abs_diff_eq!(w[0], 0.0, epsilon = 1e-15);
        assert_abs_diff_eq!(w[n / 2], 1.0, epsilon = 1e-15);
        assert!(w[n - 1] > 0.0);
        // Symmetric about n/2: w[k] == w[n - k].
        for k in 1..n {
            assert_abs_diff_eq!(w[k], w[n - k], epsilon = 1e-15);
        }
        // Equals the first n points of a symmetric window of length n + 1.
        for (k, &v) in w.iter().enumerate() {
            let sym = 0.5 - 0.5 * (2.0 * PI * k as f64 / n as f64).cos();
            assert_abs_diff_eq!(v, sym, epsilon = 1e-15);
        }
    }

    #[test]
    fn hann_sums_to_half_length() {
        // A periodic Hann window sums to exactly n / 2 (constant overlap-add at hop n / 2).
        let w = hann(2048);
        assert_abs_diff_eq!(w.iter().sum::<f64>(), 1024.0, epsilon = 1e-9);
    }

    #[test]
    fn hann_degenerate_lengths() {
        assert!(hann(0).is_empty());
        assert_eq!(hann(1), vec![1.0]);
    }

    #[test]
    fn pad_center_puts_window_in_the_middle() {
        let padded = pad_center(&[1.0, 2.0, 3.0], 8).expect("fits");
        assert_eq!(padded, vec![0.0, 0.0, 1.0, 2.0, 3.0, 0.0, 0.0, 0.0]);
        assert_eq!(pad_center(&[1.0; 4], 3), None);
    }
}
