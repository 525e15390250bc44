//! Per-recording cost of the feature kernels on a SPRSound-like signal
//! (15 s at 8 kHz, librosa-default parameters).
//!
//! `cargo bench -p lungsound-features --bench mel`

// criterion_group!/criterion_main! expand to undocumented functions.
#![allow(missing_docs)]

use criterion::{Criterion, Throughput, black_box, criterion_group, criterion_main};
use lungsound_features::{FeatureConfig, FeatureExtractor, FeatureKind};

const SAMPLE_RATE: u32 = 8000;
const DURATION_S: usize = 15;

/// Chirp plus deterministic pseudo-noise (an LCG: no RNG dependency in the bench).
fn signal() -> Vec<f32> {
    let n = SAMPLE_RATE as usize * DURATION_S;
    let mut state = 0x2545_f491_u32;
    (0..n)
        .map(|i| {
            state = state.wrapping_mul(1_664_525).wrapping_add(1_013_904_223);
            let noise = (state >> 8) as f32 / (1u32 << 24) as f32 - 0.5;
            let t = i as f32 / SAMPLE_RATE as f32;
            0.4 * (2.0 * std::f32::consts::PI * (100.0 + 120.0 * t) * t).sin() + 0.05 * noise
        })
        .collect()
}

fn bench(c: &mut Criterion) {
    let y = signal();
    let mut group = c.benchmark_group("15s_8kHz");
    group.throughput(Throughput::Elements(y.len() as u64));
    let cases = [
        ("mel", FeatureConfig::default()),
        (
            "mel_db",
            FeatureConfig {
                db: true,
                ..FeatureConfig::default()
            },
        ),
        ("stft", FeatureConfig::with_kind(FeatureKind::Stft)),
        ("logstft", FeatureConfig::with_kind(FeatureKind::LogStft)),
    ];
    for (name, cfg) in cases {
        let ex = match FeatureExtractor::new(&cfg, SAMPLE_RATE) {
            Ok(ex) => ex,
            Err(e) => panic!("{name}: {e}"),
        };
        group.bench_function(name, |b| b.iter(|| ex.compute(black_box(&y))));
    }
    let ex = match FeatureExtractor::new(&FeatureConfig::default(), SAMPLE_RATE) {
        Ok(ex) => ex,
        Err(e) => panic!("{e}"),
    };
    let mut scratch = ex.scratch();
    group.bench_function("mel_reused_scratch", |b| {
        b.iter(|| ex.compute_with_scratch(black_box(&y), &mut scratch))
    });
    group.bench_function("extractor_new", |b| {
        b.iter(|| {
            FeatureExtractor::new(black_box(&FeatureConfig::default()), SAMPLE_RATE)
                .map(|e| e.n_freq())
        })
    });
    group.finish();
}

/// The price of the f64 STFT: one n_fft = 2048 real FFT in each precision
/// (a 15 s recording at hop 512 needs 235 of them).
fn fft_precision(c: &mut Criterion) {
    fn bench_rfft<T: realfft::FftNum + From<f32>>(
        group: &mut criterion::BenchmarkGroup<'_, criterion::measurement::WallTime>,
        name: &str,
    ) {
        let r2c = realfft::RealFftPlanner::<T>::new().plan_fft_forward(2048);
        let frame: Vec<T> = (0..2048)
            .map(|i| T::from((i as f32 * 0.01).sin()))
            .collect();
        let (mut input, mut output, mut scratch) = (
            r2c.make_input_vec(),
            r2c.make_output_vec(),
            r2c.make_scratch_vec(),
        );
        group.bench_function(name, |b| {
            b.iter(|| {
                input.copy_from_slice(&frame);
                r2c.process_with_scratch(&mut input, &mut output, &mut scratch)
                    .map(|()| output[3])
            })
        });
    }
    let mut group = c.benchmark_group("rfft_2048");
    bench_rfft::<f32>(&mut group, "f32");
    bench_rfft::<f64>(&mut group, "f64");
    group.finish();
}

criterion_group!(benches, bench, fft_precision);
criterion_main!(benches);
