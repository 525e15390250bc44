//! Butterworth band-pass filters as second-order sections, designed and run
//! exactly like scipy.
//!
//! [`Butterworth::bandpass`] reproduces
//! `scipy.signal.butter(order, [low_hz, high_hz], btype='band', fs=sample_rate, output='sos')`
//! step by step (scipy 1.17 `iirfilter`):
//!
//! 1. analog low-pass prototype poles `p = -exp(i pi m / (2 order))`,
//!    `m = -order+1, -order+3, ..., order-1` (`buttap`);
//! 2. band edges pre-warped for the bilinear transform,
//!    `w = 4 tan(pi Wn / 2)` with `Wn = f / (fs / 2)`;
//! 3. low-pass to band-pass around `wo = sqrt(w_low w_high)` with bandwidth
//!    `bw = w_high - w_low` (`lp2bp_zpk`): each pole `q = p bw / 2` becomes
//!    `q ± sqrt(q² - wo²)`, `order` zeros go to the origin, gain `bw^order`;
//! 4. bilinear transform at `fs = 2` (`bilinear_zpk`): `z -> (4 + z) / (4 - z)`,
//!    the zeros at infinity go to `-1`;
//! 5. pairing into sections (`zpk2sos`, `pairing='nearest'`): the pole closest
//!    to the unit circle takes the nearest zero(s) and goes *last*; the overall
//!    gain goes into the first section's numerator.
//!
//! [`Butterworth::filter`] is `scipy.signal.sosfilt` (direct form II
//! transposed, zero initial state) and [`Butterworth::filtfilt`] is
//! `scipy.signal.sosfiltfilt` with its defaults: odd extension of
//! [`Butterworth::padlen`] samples at both ends and initial conditions from
//! `sosfilt_zi` ([`Butterworth::sosfilt_zi`]) scaled by the first sample of
//! each pass. Everything runs in `f64`; only the output is rounded to `f32`.
//!
//! `tests/filter.rs` compares coefficients and outputs with scipy's, stored in
//! `tests/fixtures/scipy/` by `scripts/fixtures/make_scipy_fixtures.py`.

use std::f64::consts::PI;

use realfft::num_complex::Complex;

use crate::error::{Error, invalid};

type C64 = Complex<f64>;

/// One second-order section `[b0, b1, b2, a0, a1, a2]` (scipy's `sos` row,
/// `a0 == 1`).
pub type Section = [f64; 6];

/// A digital Butterworth band-pass filter as cascaded second-order sections.
///
/// ```
/// use lungsound_features::filter::Butterworth;
/// // scipy.signal.butter(6, [60, 1300], btype='band', fs=4000, output='sos')
/// let bp = Butterworth::bandpass(6, 60.0, 1300.0, 4000)?;
/// assert_eq!(bp.sos().len(), 6);
/// let x: Vec<f32> = (0..4000).map(|i| (i as f32 * 0.3).sin()).collect();
/// let y = bp.filtfilt(&x)?; // zero-phase, same length
/// assert_eq!(y.len(), x.len());
/// # Ok::<(), lungsound_features::Error>(())
/// ```
#[derive(Debug, Clone, PartialEq)]
pub struct Butterworth {
    sos: Vec<Section>,
    order: usize,
    low_hz: f64,
    high_hz: f64,
    sample_rate: u32,
}

impl Butterworth {
    /// Designs a band-pass filter passing `low_hz..high_hz` (the -3 dB
    /// points) at `sample_rate`, like
    /// `scipy.signal.butter(order, [low_hz, high_hz], btype='band', fs=sample_rate, output='sos')`.
    ///
    /// `order` is the order of the low-pass prototype (scipy's `N`): the
    /// band-pass filter has order `2 * order` and `order` sections; each
    /// skirt falls off at `6 * order` dB per octave. Lung-sound work
    /// typically uses order 4-6 and a 50-2000 Hz band.
    ///
    /// # Errors
    /// [`Error::InvalidParameter`] unless `order >= 1`, `sample_rate > 0` and
    /// `0 < low_hz < high_hz < sample_rate / 2`; the message states the rule
    /// and the value given.
    pub fn bandpass(
        order: usize,
        low_hz: f64,
        high_hz: f64,
        sample_rate: u32,
    ) -> Result<Self, Error> {
        if order == 0 {
            return invalid!("Butterworth order must be >= 1, got 0");
        }
        if sample_rate == 0 {
            return invalid!("sample_rate must be > 0, got 0");
        }
        let nyquist = f64::from(sample_rate) / 2.0;
        if !(low_hz > 0.0 && low_hz.is_finite()) {
            return invalid!("band-pass low_hz must be > 0, got {low_hz}");
        }
        if high_hz.is_nan() || high_hz >= nyquist {
            return invalid!(
                "band-pass high_hz must be < sample_rate / 2 ({nyquist} Hz at {sample_rate} Hz), got {high_hz}"
            );
        }
        if low_hz >= high_hz {
            return invalid!(
                "band-pass low_hz must be < high_hz, got low_hz {low_hz} >= high_hz {high_hz}"
            );
        }
        let (zeros, poles, gain) = bandpass_zpk(order, low_hz, high_hz, f64::from(sample_rate));
        let sos = zpk2sos(&zeros, &poles, gain);
        Ok(Self {
            sos,
            order,
            low_hz,
            high_hz,
            sample_rate,
        })
    }

    /// The second-order sections, scipy's `sos` array row by row.
    pub fn sos(&self) -> &[Section] {
        &self.sos
    }

    /// The prototype order given to [`Butterworth::bandpass`].
    pub fn order(&self) -> usize {
        self.order
    }

    /// The pass band `(low_hz, high_hz)` and the sample rate it was designed for.
    pub fn band(&self) -> (f64, f64, u32) {
        (self.low_hz, self.high_hz, self.sample_rate)
    }

    /// Causal filtering from a zero state (`scipy.signal.sosfilt(sos, x)`).
    /// Output has the input's length; the filter's group delay is not removed.
    pub fn filter(&self, x: &[f32]) -> Vec<f32> {
        let mut y: Vec<f64> = x.iter().map(|&v| f64::from(v)).collect();
        let mut state = vec![[0.0; 2]; self.sos.len()];
        sosfilt_in_place(&self.sos, &mut y, &mut state);
        y.into_iter().map(|v| v as f32).collect()
    }

    /// Zero-phase filtering, forward then backward
    /// (`scipy.signal.sosfiltfilt(sos, x)` with its defaults `padtype='odd'`,
    /// `padlen=None`): the input is extended at both ends by
    /// [`Butterworth::padlen`] samples of odd reflection (`2 x[0] - x[k]`),
    /// each pass starts from the steady state for its first sample
    /// ([`Butterworth::sosfilt_zi`] times that sample), and the extension is
    /// cut off again. The magnitude response is squared (`-6 dB` at the band
    /// edges) and there is no delay.
    ///
    /// # Errors
    /// [`Error::InvalidParameter`] when `x.len() <= padlen()` (scipy's rule).
    pub fn filtfilt(&self, x: &[f32]) -> Result<Vec<f32>, Error> {
        let edge = self.padlen();
        if x.len() <= edge {
            return invalid!(
                "filtfilt needs more input samples than padlen = 3 * (2 * sections + 1) = {edge}, got {}",
                x.len()
            );
        }
        let x: Vec<f64> = x.iter().map(|&v| f64::from(v)).collect();
        let n = x.len();
        // scipy odd_ext: [2 x0 - x[edge..0], x, 2 x[n-1] - x[n-2 ..= n-1-edge]].
        let mut ext = Vec::with_capacity(n + 2 * edge);
        ext.extend((1..=edge).rev().map(|k| 2.0 * x[0] - x[k]));
        ext.extend_from_slice(&x);
        ext.extend((1..=edge).map(|k| 2.0 * x[n - 1] - x[n - 1 - k]));

        let zi = self.sosfilt_zi();
        let scaled = |v: f64| zi.iter().map(|z| [z[0] * v, z[1] * v]).collect::<Vec<_>>();
        let mut state = scaled(ext[0]);
        sosfilt_in_place(&self.sos, &mut ext, &mut state);
        ext.reverse();
        let mut state = scaled(ext[0]);
        sosfilt_in_place(&self.sos, &mut ext, &mut state);
        ext.reverse();
        Ok(ext[edge..edge + n].iter().map(|&v| v as f32).collect())
    }

    /// Length of the odd extension [`Butterworth::filtfilt`] adds at each end,
    /// scipy's default: `3 * ntaps` with
    /// `ntaps = 2 * n_sections + 1 - min(#{b2 == 0}, #{a2 == 0})`
    /// (sections that are really first order do not count twice).
    pub fn padlen(&self) -> usize {
        let b2_zero = self.sos.iter().filter(|s| s[2] == 0.0).count();
        let a2_zero = self.sos.iter().filter(|s| s[5] == 0.0).count();
        3 * (2 * self.sos.len() + 1 - b2_zero.min(a2_zero))
    }

    /// Initial state of each section for a step response's steady state
    /// (`scipy.signal.sosfilt_zi`): section `i` gets `lfilter_zi(b_i, a_i)`
    /// times the DC gain of the sections before it.
    pub fn sosfilt_zi(&self) -> Vec<[f64; 2]> {
        let mut scale = 1.0;
        self.sos
            .iter()
            .map(|s| {
                let zi = lfilter_zi(s);
                let out = [scale * zi[0], scale * zi[1]];
                scale *= (s[0] + s[1] + s[2]) / (s[3] + s[4] + s[5]);
                out
            })
            .collect()
    }
}

/// Runs the sections over `y` in place, updating `state` (scipy `_sosfilt`,
/// direct form II transposed).
fn sosfilt_in_place(sos: &[Section], y: &mut [f64], state: &mut [[f64; 2]]) {
    for v in y.iter_mut() {
        let mut x = *v;
        for (s, z) in sos.iter().zip(state.iter_mut()) {
            let out = s[0] * x + z[0];
            z[0] = s[1] * x - s[4] * out + z[1];
            z[1] = s[2] * x - s[5] * out;
            x = out;
        }
        *v = x;
    }
}

/// `scipy.signal.lfilter_zi` for one section: solves `(I - A^T) zi = B` with
/// `A` the companion matrix of `a` and `B = b[1:] - a[1:] b[0]`.
fn lfilter_zi(s: &Section) -> [f64; 2] {
    let a0 = s[3];
    let (b0, b1, b2) = (s[0] / a0, s[1] / a0, s[2] / a0);
    let (a1, a2) = (s[4] / a0, s[5] / a0);
    // I - companion(a)^T = [[1 + a1, -1], [a2, 1]].
    let (r0, r1) = (b1 - a1 * b0, b2 - a2 * b0);
    let det = 1.0 + a1 + a2;
    [(r0 + r1) / det, ((1.0 + a1) * r1 - a2 * r0) / det]
}

/// Digital zeros, poles and gain of the band-pass design (steps 1-4 of the
/// module doc), in scipy's order.
fn bandpass_zpk(order: usize, low_hz: f64, high_hz: f64, fs: f64) -> (Vec<C64>, Vec<C64>, f64) {
    let n = order as f64;
    // buttap: p = -exp(1j * pi * m / (2 N)), m = -N+1, -N+3, ..., N-1.
    let proto: Vec<C64> = (0..order)
        .map(|i| {
            let m = -n + 1.0 + 2.0 * i as f64;
            -C64::new(0.0, PI * m / (2.0 * n)).exp()
        })
        .collect();
    // iirfilter: Wn = f / (fs / 2); fs := 2; warped = 2 fs tan(pi Wn / fs).
    let warp = |f: f64| 2.0 * 2.0 * (PI * (f / (fs / 2.0)) / 2.0).tan();
    let (w_low, w_high) = (warp(low_hz), warp(high_hz));
    let bw = w_high - w_low;
    let wo = (w_low * w_high).sqrt();
    // lp2bp_zpk.
    let p_lp: Vec<C64> = proto.iter().map(|p| p * bw / 2.0).collect();
    let root = |q: &C64| (q * q - wo * wo).sqrt();
    let poles_analog: Vec<C64> = p_lp
        .iter()
        .map(|q| q + root(q))
        .chain(p_lp.iter().map(|q| q - root(q)))
        .collect();
    let k_bp = bw.powi(order as i32);
    // bilinear_zpk at fs = 2 (fs2 = 4): `order` zeros at the origin map to 1,
    // the `order` zeros at infinity to -1.
    let fs2 = 4.0;
    let poles: Vec<C64> = poles_analog.iter().map(|p| (fs2 + p) / (fs2 - p)).collect();
    let mut zeros = vec![C64::new(1.0, 0.0); order];
    zeros.extend(std::iter::repeat_n(C64::new(-1.0, 0.0), order));
    let num = (0..order).fold(C64::new(1.0, 0.0), |acc, _| acc * fs2);
    let den = poles_analog
        .iter()
        .fold(C64::new(1.0, 0.0), |acc, p| acc * (fs2 - p));
    let gain = k_bp * (num / den).re;
    (zeros, poles, gain)
}

/// A root after `_cplxreal`: complex ones stand for a conjugate pair (positive
/// imaginary part), real ones for themselves.
#[derive(Debug, Clone, Copy)]
struct Root {
    value: C64,
    real: bool,
}

/// scipy `_cplxreal`: conjugate pairs (one member each, averaged) sorted by
/// real part then |imag|, followed by the real roots sorted by value.
fn cplxreal(z: &[C64]) -> Vec<Root> {
    let tol = 100.0 * f64::EPSILON;
    let mut z = z.to_vec();
    z.sort_by(|a, b| {
        a.re.total_cmp(&b.re)
            .then(a.im.abs().total_cmp(&b.im.abs()))
    });
    let is_real = |v: &C64| v.im.abs() <= tol * v.norm();
    let reals: Vec<f64> = z.iter().filter(|v| is_real(v)).map(|v| v.re).collect();
    let mut zp: Vec<C64> = z
        .iter()
        .filter(|v| !is_real(v) && v.im > 0.0)
        .copied()
        .collect();
    let mut zn: Vec<C64> = z
        .iter()
        .filter(|v| !is_real(v) && v.im < 0.0)
        .copied()
        .collect();
    // Designs from `bandpass_zpk` always come in exact conjugate pairs.
    debug_assert_eq!(zp.len(), zn.len(), "unpaired complex root");
    let m = zp.len().min(zn.len());
    // Within runs of (nearly) equal real part, sort by |imag| (stable).
    let mut start = 0;
    while start < m {
        let mut stop = start + 1;
        while stop < m && zp[stop].re - zp[stop - 1].re <= tol * zp[stop - 1].norm() {
            stop += 1;
        }
        zp[start..stop].sort_by(|a, b| a.im.abs().total_cmp(&b.im.abs()));
        zn[start..stop].sort_by(|a, b| a.im.abs().total_cmp(&b.im.abs()));
        start = stop;
    }
    let mut out: Vec<Root> = zp
        .iter()
        .zip(&zn)
        .map(|(p, n)| Root {
            value: (p + n.conj()) / 2.0,
            real: false,
        })
        .collect();
    out.extend(reals.into_iter().map(|re| Root {
        value: C64::new(re, 0.0),
        real: true,
    }));
    out
}

/// Index of the root closest to the unit circle (first on ties, like `np.argmin`).
fn idx_worst(roots: &[Root], candidates: impl Iterator<Item = usize>) -> Option<usize> {
    candidates.min_by(|&a, &b| {
        let d = |i: usize| (1.0 - roots[i].value.norm()).abs();
        d(a).total_cmp(&d(b)).then(a.cmp(&b))
    })
}

/// Which roots `nearest` may pick (scipy `_nearest_real_complex_idx`).
#[derive(Clone, Copy, PartialEq)]
enum Which {
    Real,
    Complex,
    Any,
}

/// Index of the root in `from` nearest to `to` among those of kind `which`.
fn nearest(from: &[Root], to: C64, which: Which) -> Option<usize> {
    (0..from.len())
        .filter(|&i| match which {
            Which::Real => from[i].real,
            Which::Complex => !from[i].real,
            Which::Any => true,
        })
        .min_by(|&a, &b| {
            (from[a].value - to)
                .norm()
                .total_cmp(&(from[b].value - to).norm())
                .then(a.cmp(&b))
        })
}

/// Monic polynomial with the given roots, like `np.poly` (real part).
fn poly(roots: &[C64]) -> Vec<f64> {
    let mut c = vec![C64::new(1.0, 0.0)];
    for r in roots {
        let mut next = vec![C64::new(0.0, 0.0); c.len() + 1];
        for (i, ci) in c.iter().enumerate() {
            next[i] += ci;
            next[i + 1] += ci * (-r);
        }
        c = next;
    }
    c.into_iter().map(|v| v.re).collect()
}

/// scipy `_single_zpksos`: numerator and denominator right-aligned in a row.
fn single_section(z: &[C64], p: &[C64]) -> Section {
    let (b, a) = (poly(z), poly(p));
    let mut s = [0.0; 6];
    s[3 - b.len()..3].copy_from_slice(&b);
    s[6 - a.len()..6].copy_from_slice(&a);
    s
}

/// scipy `zpk2sos(z, p, k, pairing='nearest')` for a digital filter.
fn zpk2sos(z: &[C64], p: &[C64], k: f64) -> Vec<Section> {
    let mut z = z.to_vec();
    let mut p = p.to_vec();
    // Same number of poles and zeros, and an even count.
    let n = z.len().max(p.len());
    z.resize(n, C64::new(0.0, 0.0));
    p.resize(n, C64::new(0.0, 0.0));
    if !n.is_multiple_of(2) {
        z.push(C64::new(0.0, 0.0));
        p.push(C64::new(0.0, 0.0));
    }
    let n_sections = n.div_ceil(2);
    let mut z = cplxreal(&z);
    let mut p = cplxreal(&p);
    let mut sos = vec![[0.0; 6]; n_sections];
    let n_real = |r: &[Root]| r.iter().filter(|v| v.real).count();
    for si in (0..n_sections).rev() {
        let Some(i1) = idx_worst(&p, 0..p.len()) else {
            break;
        };
        let p1 = p.remove(i1);
        if p1.real && n_real(&p) == 0 {
            // Last remaining real pole: a first-order section with the nearest real zero.
            let z1 = nearest(&z, p1.value, Which::Real)
                .map_or(C64::new(0.0, 0.0), |i| z.remove(i).value);
            sos[si] = single_section(&[z1, C64::new(0.0, 0.0)], &[p1.value, C64::new(0.0, 0.0)]);
        } else if p.len() + 1 == z.len() && !p1.real && n_real(&p) == 1 && n_real(&z) == 1 {
            // One real pole and one real zero left: this pole must take a complex zero.
            let z1 = nearest(&z, p1.value, Which::Complex)
                .map_or(C64::new(0.0, 0.0), |i| z.remove(i).value);
            sos[si] = single_section(&[z1, z1.conj()], &[p1.value, p1.value.conj()]);
        } else {
            let p2 = if p1.real {
                let reals = (0..p.len()).filter(|&i| p[i].real);
                match idx_worst(&p, reals) {
                    Some(i2) => p.remove(i2).value,
                    None => C64::new(0.0, 0.0),
                }
            } else {
                p1.value.conj()
            };
            sos[si] = match nearest(&z, p1.value, Which::Any).map(|i| z.remove(i)) {
                Some(z1) if !z1.real => {
                    single_section(&[z1.value, z1.value.conj()], &[p1.value, p2])
                }
                Some(z1) => match nearest(&z, p1.value, Which::Real) {
                    Some(i2) => {
                        let z2 = z.remove(i2).value;
                        single_section(&[z1.value, z2], &[p1.value, p2])
                    }
                    None => single_section(&[z1.value], &[p1.value, p2]),
                },
                None => single_section(&[], &[p1.value, p2]),
            };
        }
    }
    for b in &mut sos[0][..3] {
        *b *= k;
    }
    sos
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    /// |H(e^{i 2 pi f / fs})| of a cascade of sections.
    fn response(sos: &[Section], f: f64, fs: f64) -> f64 {
        let w = C64::new(0.0, -2.0 * PI * f / fs).exp();
        sos.iter()
            .map(|s| {
                let num = s[0] + s[1] * w + s[2] * w * w;
                let den = s[3] + s[4] * w + s[5] * w * w;
                (num / den).norm()
            })
            .product()
    }

    #[test]
    fn band_edges_are_minus_3_db_and_centre_is_unity() {
        for order in 1..=8 {
            for &(lo, hi, sr) in &[
                (60.0, 1300.0, 4000),
                (100.0, 2000.0, 8000),
                (200.0, 400.0, 4000),
            ] {
                let bp = Butterworth::bandpass(order, lo, hi, sr).unwrap();
                let fs = f64::from(sr);
                let edge = std::f64::consts::FRAC_1_SQRT_2;
                assert!(
                    (response(bp.sos(), lo, fs) - edge).abs() < 1e-9,
                    "order {order} {lo}"
                );
                assert!(
                    (response(bp.sos(), hi, fs) - edge).abs() < 1e-9,
                    "order {order} {hi}"
                );
                // Centre of the pre-warped band: 2 atan(wo / 4) * fs / (2 pi).
                let warp = |f: f64| 4.0 * (PI * f / fs).tan();
                let wo = (warp(lo) * warp(hi)).sqrt();
                let centre = (wo / 4.0).atan() * fs / PI;
                assert!(
                    (response(bp.sos(), centre, fs) - 1.0).abs() < 1e-9,
                    "order {order}"
                );
                assert_eq!(bp.sos().len(), order);
                assert!(bp.sos().iter().all(|s| s[3] == 1.0));
            }
        }
    }

    #[test]
    fn invalid_parameters_name_the_rule_and_value() {
        let msg = |r: Result<Butterworth, Error>| r.map(|_| ()).unwrap_err().to_string();
        assert!(
            msg(Butterworth::bandpass(0, 60.0, 1300.0, 4000)).contains("order must be >= 1, got 0")
        );
        assert!(
            msg(Butterworth::bandpass(4, 0.0, 1300.0, 4000)).contains("low_hz must be > 0, got 0")
        );
        assert!(
            msg(Butterworth::bandpass(4, 60.0, 2000.0, 4000))
                .contains("< sample_rate / 2 (2000 Hz")
        );
        assert!(
            msg(Butterworth::bandpass(4, 900.0, 800.0, 4000)).contains("low_hz must be < high_hz")
        );
        assert!(msg(Butterworth::bandpass(4, f64::NAN, 800.0, 4000)).contains("got NaN"));
        assert!(msg(Butterworth::bandpass(4, 60.0, 800.0, 0)).contains("sample_rate must be > 0"));
    }

    #[test]
    fn filtfilt_rejects_short_input_and_keeps_length() {
        let bp = Butterworth::bandpass(6, 60.0, 1300.0, 4000).unwrap();
        assert_eq!(bp.padlen(), 39);
        let err = bp.filtfilt(&[0.0; 39]).unwrap_err().to_string();
        assert!(
            err.contains("padlen = 3 * (2 * sections + 1) = 39, got 39"),
            "{err}"
        );
        assert_eq!(bp.filtfilt(&[0.5; 40]).unwrap().len(), 40);
        assert!(bp.filter(&[]).is_empty());
    }

    #[test]
    fn zi_is_the_step_response_steady_state() {
        // Filtering a constant from state zi * x0 leaves the state unchanged.
        let bp = Butterworth::bandpass(3, 100.0, 1000.0, 8000).unwrap();
        let zi = bp.sosfilt_zi();
        let mut state: Vec<[f64; 2]> = zi.clone();
        let mut y = vec![1.0; 50];
        sosfilt_in_place(bp.sos(), &mut y, &mut state);
        for (a, b) in state.iter().zip(&zi) {
            assert!((a[0] - b[0]).abs() < 1e-12 && (a[1] - b[1]).abs() < 1e-12);
        }
        // A band-pass filter's steady state for a constant input is 0.
        assert!(y.iter().all(|v| v.abs() < 1e-12));
    }
}
