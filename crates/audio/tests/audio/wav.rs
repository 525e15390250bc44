//! WAV decoding: every bit depth and format, mono and multi-channel, against hound and
//! against the values that were written; probe, decode_bytes, load_resampled.

use lungsound_audio::{Codec, SampleFormat, decode_bytes, load, load_resampled, probe};
use lungsound_testutil::{sine, temp_dir, wav_bytes, white_noise, write_wav_with_spec};

use crate::{hound_ints, max_abs_diff, scaled_mono};

/// Interleaved test signal: a sine on channel 0, noise on the others, with exact full-scale
/// extremes at the start so the scaling at ±1 is checked too.
fn signal(n_frames: usize, channels: usize) -> Vec<f32> {
    let tone = sine(440.0, 8000, n_frames as f64 / 8000.0, 0.7);
    let noise = white_noise(n_frames * channels, 11);
    let mut x = Vec::with_capacity(n_frames * channels);
    for i in 0..n_frames {
        for c in 0..channels {
            x.push(if c == 0 {
                tone[i]
            } else {
                0.5 * noise[i * channels + c]
            });
        }
    }
    x[0] = 1.0; // clamps to the largest positive integer
    let last = x.len() - 1;
    x[channels.min(last)] = -1.0;
    x
}

#[test]
fn integer_wavs_decode_like_soundfile_for_all_depths_and_channel_counts() {
    let dir = temp_dir();
    for bits in [8u16, 16, 24, 32] {
        for channels in [1u16, 2, 3] {
            let path = dir.path().join(format!("int{bits}_{channels}ch.wav"));
            let written = signal(500, usize::from(channels));
            write_wav_with_spec(&path, &written, 8000, channels, bits, false);

            let (audio, info) = load(&path).expect("load");
            assert_eq!(audio.sample_rate, 8000);
            assert_eq!(
                (
                    info.channels,
                    info.bits_per_sample,
                    info.sample_format,
                    info.codec,
                    info.n_frames
                ),
                (
                    channels,
                    Some(u32::from(bits)),
                    SampleFormat::Int,
                    Codec::Wav,
                    500
                ),
                "{}",
                path.display()
            );
            assert_eq!(audio.samples.len(), 500);

            // Independent decode: hound's integers, scaled and averaged.
            let (spec, ints) = hound_ints(&path);
            assert_eq!(spec.bits_per_sample, bits);
            let expected = scaled_mono(&ints, usize::from(channels), bits);
            assert!(
                max_abs_diff(&audio.samples, &expected) <= 1e-7,
                "{bits}-bit {channels}ch vs hound"
            );

            // And against what was written (clamped to the integer range), within half a
            // quantisation step.
            let step = 1.0 / (1u64 << (bits - 1)) as f32;
            let clamped: Vec<f32> = written.iter().map(|&x| x.min(1.0 - step)).collect();
            let written_mono = lungsound_audio::to_mono(&clamped, usize::from(channels));
            assert!(
                max_abs_diff(&audio.samples, &written_mono) <= step * 0.5 + 1e-7,
                "{bits}-bit {channels}ch"
            );
        }
    }
}

#[test]
fn full_scale_integers_map_to_minus_one_and_just_below_one() {
    let dir = temp_dir();
    for bits in [8u16, 16, 24, 32] {
        let path = dir.path().join(format!("fs{bits}.wav"));
        write_wav_with_spec(&path, &[-1.0, 1.0, 0.0], 8000, 1, bits, false);
        let (audio, _) = load(&path).expect("load");
        let top = 1.0 - 1.0 / (1u64 << (bits - 1)) as f64;
        assert_eq!(audio.samples[0], -1.0, "{bits}-bit minimum");
        assert_eq!(audio.samples[1], top as f32, "{bits}-bit maximum");
        assert_eq!(audio.samples[2], 0.0, "{bits}-bit zero");
    }
}

#[test]
fn float_wavs_pass_values_through_for_32_and_64_bit() {
    let dir = temp_dir();
    for bits in [32u16, 64] {
        for channels in [1u16, 2] {
            let path = dir.path().join(format!("float{bits}_{channels}ch.wav"));
            let mut written = signal(300, usize::from(channels));
            written[4] = 1.25; // over full scale: kept, with a warning
            write_wav_with_spec(&path, &written, 22_050, channels, bits, true);
            let (audio, info) = load(&path).expect("load");
            assert_eq!(
                (
                    info.sample_rate,
                    info.channels,
                    info.bits_per_sample,
                    info.sample_format
                ),
                (22_050, channels, Some(u32::from(bits)), SampleFormat::Float)
            );
            let expected = lungsound_audio::to_mono(&written, usize::from(channels));
            assert!(
                max_abs_diff(&audio.samples, &expected) <= 1e-7,
                "{bits}-bit float {channels}ch"
            );
            assert!(audio.samples.iter().any(|&x| x > 1.0) || channels > 1);
        }
    }
}

#[test]
fn probe_reads_the_header_and_agrees_with_load() {
    let dir = temp_dir();
    for (bits, float) in [
        (8u16, false),
        (16, false),
        (24, false),
        (32, false),
        (32, true),
        (64, true),
    ] {
        let path = dir.path().join(format!("p{bits}{float}.wav"));
        write_wav_with_spec(&path, &signal(1234, 2), 4000, 2, bits, float);
        let probed = probe(&path).expect("probe");
        let (_, loaded) = load(&path).expect("load");
        assert_eq!(probed, loaded, "{bits}-bit float={float}");
        assert_eq!(probed.n_frames, 1234);
        assert!((probed.duration_s() - 1234.0 / 4000.0).abs() < 1e-12);
    }
}

#[test]
fn decode_bytes_matches_load() {
    let dir = temp_dir();
    let path = dir.path().join("upload.wav");
    write_wav_with_spec(&path, &signal(800, 2), 16_000, 2, 24, false);
    let bytes = std::fs::read(&path).expect("read");
    let from_file = load(&path).expect("load");
    let from_bytes = decode_bytes(&bytes, "upload.wav").expect("decode_bytes");
    assert_eq!(from_file, from_bytes);
}

#[test]
fn unknown_chunks_before_data_are_skipped() {
    // fmt, then a LIST and a custom chunk (odd length, padded), then data.
    let plain = wav_bytes(&[0.5, -0.25, 0.125], 8000, 1, 16, false);
    let mut bytes = plain[..36].to_vec();
    bytes.extend_from_slice(b"LIST\x04\0\0\0abcd");
    bytes.extend_from_slice(b"junk\x03\0\0\0xyz\0");
    bytes.extend_from_slice(&plain[36..]);
    let riff_len = (bytes.len() - 8) as u32;
    bytes[4..8].copy_from_slice(&riff_len.to_le_bytes());
    let (audio, info) = decode_bytes(&bytes, "chunks.wav").expect("decode");
    assert_eq!(info.n_frames, 3);
    assert_eq!(audio.samples, vec![0.5, -0.25, 0.125]);
}

#[test]
fn load_resampled_converts_only_when_needed() {
    let dir = temp_dir();
    let path = dir.path().join("tone.wav");
    let x = sine(500.0, 16_000, 0.5, 0.5);
    write_wav_with_spec(&path, &x, 16_000, 1, 32, true);
    let same = load_resampled(&path, 16_000).expect("same rate");
    assert_eq!(same.samples, x);
    let down = load_resampled(&path, 8_000).expect("downsample");
    assert_eq!((down.sample_rate, down.samples.len()), (8_000, 4_000));
    let expected = lungsound_audio::resample(&x, 16_000, 8_000).expect("resample");
    assert_eq!(down.samples, expected);
    assert!(matches!(
        load_resampled(&path, 0),
        Err(lungsound_audio::Error::InvalidSampleRate { .. })
    ));
}

#[test]
fn write_wav_round_trips_through_load() {
    let dir = temp_dir();
    let path = dir.path().join("out.wav");
    let x = white_noise(1000, 5);
    lungsound_audio::write_wav(&path, &x, 8000).expect("write");
    let (audio, info) = load(&path).expect("load");
    assert_eq!(audio.samples, x);
    assert_eq!(
        (
            info.sample_rate,
            info.channels,
            info.bits_per_sample,
            info.sample_format
        ),
        (8000, 1, Some(32), SampleFormat::Float)
    );
}
