//! IEEE 754 half precision (binary16) conversion.
//!
//! Spectrograms are stored as f16 in memory and in the feature cache (half
//! the memory of f32; log-mel values in [-80, 0] dB keep a resolution of
//! 1/32 dB or better). Every path — training, evaluation, prediction — rounds
//! its features through f16, so the network always sees the same values.

/// f32 → f16 bits, rounding to nearest even; overflow gives ±inf, NaN stays NaN.
pub fn f32_to_f16(x: f32) -> u16 {
    let bits = x.to_bits();
    let sign = ((bits >> 16) & 0x8000) as u16;
    let exp = ((bits >> 23) & 0xff) as i32;
    let mant = bits & 0x007f_ffff;
    if exp == 0xff {
        // inf or NaN (keep a quiet NaN bit)
        return sign | 0x7c00 | if mant != 0 { 0x0200 } else { 0 };
    }
    let e = exp - 127 + 15;
    if e >= 0x1f {
        return sign | 0x7c00;
    }
    if e <= 0 {
        // subnormal or zero in f16
        if e < -10 {
            return sign;
        }
        let m = mant | 0x0080_0000; // implicit leading 1
        let shift = (14 - e) as u32; // 24-bit significand down to 10 bits below 2^-14
        let half = 1u32 << (shift - 1);
        let rest = m & ((1u32 << shift) - 1);
        let mut out = m >> shift;
        if rest > half || (rest == half && out & 1 == 1) {
            out += 1;
        }
        return sign | out as u16;
    }
    let mut out = ((e as u32) << 10) | (mant >> 13);
    let rest = mant & 0x1fff;
    if rest > 0x1000 || (rest == 0x1000 && out & 1 == 1) {
        out += 1; // may carry into the exponent, up to inf: correct
    }
    sign | out as u16
}

/// f16 bits → f32 (exact).
pub fn f16_to_f32(h: u16) -> f32 {
    let sign = u32::from(h & 0x8000) << 16;
    let exp = u32::from((h >> 10) & 0x1f);
    let mant = u32::from(h & 0x03ff);
    let bits = match (exp, mant) {
        (0, 0) => sign,
        (0, _) => {
            // subnormal: normalise
            let mut e: i32 = -14;
            let mut m = mant;
            while m & 0x0400 == 0 {
                m <<= 1;
                e -= 1;
            }
            sign | (((e + 127) as u32) << 23) | ((m & 0x03ff) << 13)
        }
        (0x1f, 0) => sign | 0x7f80_0000,
        (0x1f, _) => sign | 0x7fc0_0000 | (mant << 13),
        _ => sign | ((exp + 127 - 15) << 23) | (mant << 13),
    };
    f32::from_bits(bits)
}

/// Rounds every value through f16 (what the network sees).
pub fn round_through_f16(values: &mut [f32]) {
    for v in values {
        *v = f16_to_f32(f32_to_f16(*v));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn known_values() {
        assert_eq!(f32_to_f16(0.0), 0);
        assert_eq!(f32_to_f16(-0.0), 0x8000);
        assert_eq!(f32_to_f16(1.0), 0x3c00);
        assert_eq!(f32_to_f16(-2.0), 0xc000);
        assert_eq!(f32_to_f16(65504.0), 0x7bff);
        assert_eq!(f32_to_f16(65520.0), 0x7c00); // rounds up to inf
        assert_eq!(f32_to_f16(f32::INFINITY), 0x7c00);
        assert!(f16_to_f32(f32_to_f16(f32::NAN)).is_nan());
        assert_eq!(f32_to_f16(5.960_464_5e-8), 1); // smallest subnormal
        assert_eq!(f32_to_f16(2.0e-8), 0);
        assert_eq!(f16_to_f32(1), 5.960_464_5e-8);
        assert_eq!(f16_to_f32(0x3555), 0.333_251_95);
        // ties to even: 1 + 2^-11 is halfway between 1 and 1 + 2^-10
        assert_eq!(f32_to_f16(1.0 + 2f32.powi(-11)), 0x3c00);
        assert_eq!(f32_to_f16(1.0 + 3.0 * 2f32.powi(-11)), 0x3c02);
    }

    #[test]
    fn every_f16_round_trips() {
        for h in 0..=u16::MAX {
            let x = f16_to_f32(h);
            if x.is_nan() {
                continue;
            }
            assert_eq!(f32_to_f16(x), h, "{h:#06x} -> {x}");
        }
    }

    #[test]
    fn matches_libtorch_half_conversion() {
        let xs: Vec<f32> = (0..2000)
            .map(|i| (i as f32 - 1000.0) * 0.0137 + (i as f32 * 0.37).sin() * 1e-3)
            .chain([1e-5, 3e-7, -6.1e-5, 70000.0, -80.0, 1234.567])
            .collect();
        let t = tch::Tensor::from_slice(&xs)
            .to_kind(tch::Kind::Half)
            .to_kind(tch::Kind::Float);
        let torch: Vec<f32> = Vec::<f32>::try_from(&t).unwrap_or_default();
        let ours: Vec<f32> = xs.iter().map(|&x| f16_to_f32(f32_to_f16(x))).collect();
        assert_eq!(torch.len(), ours.len());
        for ((a, b), x) in torch.iter().zip(&ours).zip(&xs) {
            assert!(
                a == b || (a.is_infinite() && b.is_infinite()),
                "{x}: torch {a}, ours {b}"
            );
        }
    }
}
