//! Property tests ("fuzzing" on stable Rust): no input makes the decoders panic, hang or
//! allocate out of proportion to the input. CI runs a bounded number of cases; a longer run
//! is `PROPTEST_CASES=200000 cargo test -p lungsound-audio --release fuzz` (BENCHMARKS.md).

use lungsound_audio::decode_bytes;
use lungsound_testutil::wav_bytes;
use proptest::prelude::*;

use crate::fixture;

/// Cases per property unless `PROPTEST_CASES` says otherwise.
const CASES: u32 = 400;

fn config() -> ProptestConfig {
    lungsound_testutil::proptest_config(CASES)
}

/// Decodes and checks the output is bounded by the input: every frame takes at least one
/// bit of the file (ADPCM: 4 bits per sample), so no decode may invent more than 2 frames
/// per input byte.
fn decode_is_bounded(bytes: &[u8]) {
    if let Ok((audio, info)) = decode_bytes(bytes, "fuzz.wav") {
        assert!(audio.samples.len() <= 2 * bytes.len() + 16, "{info:?}");
        assert_eq!(audio.samples.len() as u64, info.n_frames);
        assert!(lungsound_audio::SAMPLE_RATE_RANGE.contains(&info.sample_rate));
    }
}

/// A small valid file of each kind to mutate.
fn seeds() -> Vec<Vec<u8>> {
    let mut seeds = vec![
        wav_bytes(&[0.25, -0.5, 0.75, -1.0, 0.0, 0.5], 8000, 1, 16, false),
        wav_bytes(&[0.25, -0.5, 0.75, -1.0], 44_100, 2, 24, false),
        wav_bytes(&[0.25, -0.5, 0.75, -1.0], 16_000, 1, 32, true),
    ];
    for name in [
        "wav_corpus/ulaw_mono.wav",
        "wav_corpus/ms_adpcm_mono.wav",
        "wav_corpus/ima_adpcm_mono.wav",
        "wav_corpus/flac16_stereo.flac",
    ] {
        if let Ok(bytes) = std::fs::read(fixture(name)) {
            seeds.push(bytes);
        }
    }
    seeds
}

proptest! {
    #![proptest_config(config())]

    #[test]
    fn arbitrary_bytes_never_panic(bytes in proptest::collection::vec(any::<u8>(), 0..512)) {
        decode_is_bounded(&bytes);
    }

    #[test]
    fn arbitrary_bytes_behind_a_riff_header_never_panic(
        body in proptest::collection::vec(any::<u8>(), 0..512),
        riff in prop_oneof![Just(*b"RIFF"), Just(*b"RIFX"), Just(*b"RF64")],
    ) {
        let mut bytes = riff.to_vec();
        bytes.extend_from_slice(&(body.len() as u32 + 4).to_le_bytes());
        bytes.extend_from_slice(b"WAVE");
        bytes.extend_from_slice(&body);
        decode_is_bounded(&bytes);
    }

    #[test]
    fn mutated_valid_files_never_panic(
        seed in 0usize..7,
        flips in proptest::collection::vec((any::<u16>(), any::<u8>()), 1..12),
        cut in proptest::option::of(any::<u16>()),
    ) {
        let seeds = seeds();
        let mut bytes = seeds[seed % seeds.len()].clone();
        for (at, value) in flips {
            // Mostly the header, where the decisions are made.
            let at = usize::from(at) % bytes.len().min(if at % 4 == 0 { usize::MAX } else { 96 });
            bytes[at] = value;
        }
        if let Some(cut) = cut {
            bytes.truncate(usize::from(cut) % (bytes.len() + 1));
        }
        decode_is_bounded(&bytes);
    }
}
