//! Real recordings from `../shared/data` (skipped with a message when absent).

use std::path::Path;
use std::time::Instant;

use lungsound_audio::{Codec, Error, SampleFormat, decode_bytes, load, probe};
use lungsound_testutil::{files_with_extension, skip_without_data};

use crate::{fixture, hound_ints, scaled_mono};

/// One line of `fixtures/sprsound_reference.tsv` (made by `make_sprsound_reference.py`
/// with the reference `flac -d`).
struct Reference {
    name: String,
    sample_rate: u32,
    bits: u32,
    n_frames: u64,
    sum: i64,
    sum_sq: i64,
    first: Vec<i64>,
}

fn references() -> Vec<Reference> {
    let text = std::fs::read_to_string(fixture("sprsound_reference.tsv")).expect("reference file");
    text.lines()
        .filter(|l| !l.starts_with('#') && !l.trim().is_empty())
        .map(|line| {
            let f: Vec<&str> = line.split('\t').collect();
            assert_eq!(f.len(), 7, "bad reference line {line:?}");
            let int = |s: &str| s.parse::<i64>().expect("integer");
            Reference {
                name: f[0].to_string(),
                sample_rate: f[1].parse().expect("rate"),
                bits: f[2].parse().expect("bits"),
                n_frames: f[3].parse().expect("frames"),
                sum: int(f[4]),
                sum_sq: int(f[5]),
                first: f[6].split(',').map(int).collect(),
            }
        })
        .collect()
}

#[test]
fn sprsound_flac_matches_the_reference_decoder() {
    let dir = skip_without_data!("sprsound/train2022");
    let refs = references();
    assert_eq!(refs.len(), 3);
    for r in refs {
        let (audio, info) = load(&dir.join(&r.name)).expect("load");
        assert_eq!(
            (
                info.codec,
                info.sample_rate,
                info.bits_per_sample,
                info.channels,
                info.n_frames
            ),
            (Codec::Flac, r.sample_rate, Some(r.bits), 1, r.n_frames),
            "{}",
            r.name
        );
        // 16-bit samples scaled by 1/32768 are exact in f32: recover the integers.
        let ints: Vec<i64> = audio
            .samples
            .iter()
            .map(|&x| (f64::from(x) * 32768.0) as i64)
            .collect();
        assert!(
            audio
                .samples
                .iter()
                .zip(&ints)
                .all(|(&x, &q)| f64::from(x) * 32768.0 == q as f64)
        );
        assert_eq!(
            ints[..r.first.len()],
            r.first[..],
            "{}: first samples",
            r.name
        );
        assert_eq!(ints.iter().sum::<i64>(), r.sum, "{}: sum", r.name);
        assert_eq!(
            ints.iter().map(|q| q * q).sum::<i64>(),
            r.sum_sq,
            "{}: sum of squares",
            r.name
        );
    }
}

#[test]
fn every_shared_recording_probes_and_loads_consistently() {
    let root = skip_without_data!();
    let mut files = files_with_extension(&root.join("sprsound/train2022"), "flac");
    files.extend(files_with_extension(
        &root.join("icbhi/audio_and_txt"),
        "wav",
    ));
    assert!(!files.is_empty());
    let start = Instant::now();
    let mut total_s = 0.0;
    for path in &files {
        let probed = probe(path).unwrap_or_else(|e| panic!("{e}"));
        let (audio, info) = load(path).unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(probed, info, "{}", path.display());
        assert_eq!(audio.samples.len() as u64, info.n_frames);
        assert!(
            audio.samples.iter().all(|x| (-1.0..1.0).contains(x)),
            "{}",
            path.display()
        );
        if info.codec == Codec::Flac {
            assert_eq!(
                (info.sample_rate, info.bits_per_sample, info.channels),
                (8000, Some(16), 1)
            );
        }
        total_s += audio.duration_s();
    }
    eprintln!(
        "decoded {} files ({:.0} s of audio) twice (probe + load) in {:.2} s",
        files.len(),
        total_s,
        start.elapsed().as_secs_f64()
    );
}

#[test]
fn icbhi_wavs_match_hound_sample_for_sample() {
    let dir = skip_without_data!("icbhi/audio_and_txt");
    let files = files_with_extension(&dir, "wav");
    let mut seen_bits = Vec::new();
    for path in files {
        let (audio, info) = load(&path).expect("load");
        let (spec, ints) = hound_ints(&path);
        assert_eq!(info.sample_rate, spec.sample_rate);
        assert_eq!(info.bits_per_sample, Some(u32::from(spec.bits_per_sample)));
        assert_eq!(info.sample_format, SampleFormat::Int);
        let expected = scaled_mono(&ints, usize::from(spec.channels), spec.bits_per_sample);
        assert!(audio.samples == expected, "{}", path.display());
        seen_bits.push((spec.sample_rate, spec.bits_per_sample));
    }
    // The folder holds 44.1 kHz 16- and 24-bit and 4 kHz 16-bit recordings.
    for want in [(44_100, 16), (44_100, 24), (4_000, 16)] {
        assert!(
            seen_bits.contains(&want),
            "no {want:?} recording among {seen_bits:?}"
        );
    }
}

#[test]
fn real_flac_cut_in_half_is_truncated_with_partial_progress() {
    let dir = skip_without_data!("sprsound/train2022");
    let path = files_with_extension(&dir, "flac")
        .into_iter()
        .next()
        .expect("a flac file");
    let bytes = std::fs::read(&path).expect("read");
    let (_, info) = load(&path).expect("intact file loads");
    match decode_bytes(&bytes[..bytes.len() / 2], "half.flac") {
        Err(Error::Truncated {
            expected, decoded, ..
        }) => {
            assert_eq!(expected, info.n_frames);
            assert!(
                decoded > 0 && decoded < expected,
                "decoded {decoded} of {expected}"
            );
        }
        other => panic!("expected Truncated, got {other:?}"),
    }
}

#[test]
fn resampling_a_real_recording_keeps_its_duration() {
    let dir = skip_without_data!("icbhi/audio_and_txt");
    let path: &Path = &dir.join("104_1b1_Al_sc_Litt3200.wav");
    let (audio, _) = load(path).expect("load");
    let up = lungsound_audio::load_resampled(path, 8000).expect("4 kHz to 8 kHz");
    assert_eq!(up.samples.len(), audio.samples.len() * 2);
    assert!((up.duration_s() - audio.duration_s()).abs() < 1e-9);
    // Every original sample is reproduced at the even output positions (up to filter error).
    let err = up
        .samples
        .iter()
        .step_by(2)
        .zip(&audio.samples)
        .skip(600)
        .take(50_000)
        .map(|(a, b)| (a - b).abs())
        .fold(0.0f32, f32::max);
    assert!(err < 2e-3, "max deviation {err}");
}

/// The release's WAV files (`block_align` 4 for mono 16-bit) decode to exactly the samples of
/// their lossless FLAC twins in train2022, through `load`, `probe` and `decode_bytes`.
#[test]
fn sprsound_release_wavs_equal_their_flac_twins_sample_for_sample() {
    let wav_dir = lungsound_testutil::skip_without_data!(lungsound_testutil::SPRSOUND_RELEASE_WAV);
    let flac_dir = lungsound_testutil::skip_without_data!(lungsound_testutil::SPRSOUND_TRAIN);
    let wavs = files_with_extension(&wav_dir, "wav");
    assert_eq!(wavs.len(), 60, "release WAVs in {}", wav_dir.display());
    for wav in &wavs {
        let twin = flac_dir.join(wav.with_extension("flac").file_name().expect("name"));
        let (from_wav, wav_info) = load(wav).unwrap_or_else(|e| panic!("{e}"));
        let (from_flac, flac_info) = load(&twin).unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(from_wav.sample_rate, 8000);
        assert_eq!(
            from_wav.samples.len(),
            from_flac.samples.len(),
            "{}: frames",
            wav.display()
        );
        assert!(
            from_wav.samples == from_flac.samples,
            "{}: samples differ from the FLAC twin",
            wav.display()
        );
        assert_eq!(wav_info.n_frames, flac_info.n_frames);
        assert!(
            wav_info
                .notes
                .iter()
                .any(|n| n.contains("block_align is 4")),
            "{}: the header repair is reported: {:?}",
            wav.display(),
            wav_info.notes
        );
        let probed = probe(wav).expect("probe");
        assert_eq!(
            probed.duration_s(),
            from_flac.duration_s(),
            "{}",
            wav.display()
        );
    }
}
