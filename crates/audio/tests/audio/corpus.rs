//! Parity with libsndfile on a corpus of ordinary and quirky WAV/FLAC files.
//!
//! `tests/fixtures/wav_corpus/` holds hand-crafted files and `reference.json`, what python
//! `soundfile` (libsndfile) returned for each: `scripts/fixtures/make_wav_corpus.py` made
//! both. Every file libsndfile reads must decode here to the same frame count, rate and
//! (mono-mixed) samples, through `load`, `probe` and `decode_bytes` alike; every file it
//! refuses must be an error that names the file, unless listed in [`READ_WHERE_LIBSNDFILE_REFUSES`].

use std::path::Path;

use lungsound_audio::{Error, decode_bytes, load, probe};
use serde_json::Value;

use crate::fixture;

/// Files libsndfile reads that lungsound deliberately refuses, and the error expected.
const REFUSED_ON_PURPOSE: &[(&str, &str)] = &[
    // NaN samples would poison every spectrogram computed from them.
    ("float32_nan_mono.wav", "non-finite sample"),
    ("float32_nan_stereo.wav", "non-finite sample"),
    // libsndfile opens these with 0 frames; there is nothing to classify.
    ("data_size_0.wav", "no audio samples"),
    ("data_size_0_with_bytes.wav", "no audio samples"),
];

/// Files libsndfile refuses for reasons that do not make the audio ambiguous; lungsound
/// reads them (and says what it repaired where there was something to repair).
const READ_WHERE_LIBSNDFILE_REFUSES: &[&str] = &[
    // Its samples happen to start with the bytes "OggS"; libsndfile takes that for WavPack.
    "data_starts_oggs.wav",
    // Eight zero bytes between chunks read as an empty chunk with a zero id; libsndfile
    // stops at a zero id. The fmt and data chunks around it are intact.
    "zero_gap_before_data.wav",
];

fn reference() -> Value {
    let text = std::fs::read_to_string(fixture("wav_corpus/reference.json")).expect("reference");
    serde_json::from_str(&text).expect("reference JSON")
}

/// The reference's mono samples: `mono`, or `mono_first` + `mono_last` for long files, as
/// (index, value) pairs.
fn expected_samples(entry: &Value, frames: usize) -> Vec<(usize, f64)> {
    let values = |key: &str| -> Vec<f64> {
        entry[key]
            .as_array()
            .map(|a| a.iter().map(|v| v.as_f64().unwrap_or(f64::NAN)).collect())
            .unwrap_or_default()
    };
    if entry.get("mono").is_some() {
        return values("mono").into_iter().enumerate().collect();
    }
    let first = values("mono_first");
    let last = values("mono_last");
    let mut out: Vec<(usize, f64)> = first.into_iter().enumerate().collect();
    let start = frames - last.len();
    out.extend(last.into_iter().enumerate().map(|(i, v)| (start + i, v)));
    out
}

fn assert_names(err: &Error, name: &str) -> String {
    let msg = err.to_string();
    assert!(msg.contains(name), "the error does not name {name}: {msg}");
    msg
}

#[test]
fn every_corpus_file_decodes_as_libsndfile_does() {
    let reference = reference();
    let files = reference["files"].as_array().expect("files");
    assert!(files.len() >= 60, "corpus has {} files", files.len());
    let mut compared = 0;
    for entry in files {
        let name = entry["file"].as_str().expect("file");
        let case = entry["case"].as_str().unwrap_or("");
        let path = fixture(&format!("wav_corpus/{name}"));
        let loaded = load(&path);
        let bytes = std::fs::read(&path).expect("read corpus file");
        let uploaded = decode_bytes(&bytes, name);

        if let Some((_, why)) = REFUSED_ON_PURPOSE.iter().find(|(f, _)| *f == name) {
            for result in [&loaded, &uploaded] {
                let err = result.as_ref().map(|_| ()).expect_err(name);
                let msg = assert_names(err, name);
                assert!(msg.contains(why), "{name} ({case}): {msg}");
            }
            continue;
        }
        let libsndfile_reads = entry["ok"].as_bool().expect("ok");
        if !libsndfile_reads {
            if READ_WHERE_LIBSNDFILE_REFUSES.contains(&name) {
                loaded.unwrap_or_else(|e| panic!("{name} ({case}) should be read: {e}"));
                continue;
            }
            for result in [&loaded, &uploaded] {
                match result {
                    Ok(_) => panic!("{name} ({case}): libsndfile refuses it, lungsound read it"),
                    Err(err) => assert_names(err, name),
                };
            }
            let probed = probe(&path).map(|_| ()).expect_err("probe refuses it too");
            assert_names(&probed, name);
            continue;
        }

        let (audio, info) = loaded.unwrap_or_else(|e| panic!("{name} ({case}): {e}"));
        let frames = entry["frames"].as_u64().expect("frames") as usize;
        let rate = entry["sample_rate"].as_u64().expect("rate") as u32;
        let channels = entry["channels"].as_u64().expect("channels") as u16;
        assert_eq!(
            (audio.samples.len(), audio.sample_rate, info.channels),
            (frames, rate, channels),
            "{name} ({case}): frames, rate, channels"
        );
        assert_eq!(info.n_frames as usize, frames, "{name}: info.n_frames");
        for (i, want) in expected_samples(entry, frames) {
            let got = f64::from(audio.samples[i]);
            let tolerance = 2e-7 * want.abs().max(1.0);
            assert!(
                (got - want).abs() <= tolerance,
                "{name} ({case}): sample {i} is {got}, libsndfile gives {want}"
            );
        }
        let (upload, _) = uploaded.unwrap_or_else(|e| panic!("{name} as bytes: {e}"));
        assert_eq!(
            upload.samples, audio.samples,
            "{name}: decode_bytes == load"
        );
        let probed = probe(&path).unwrap_or_else(|e| panic!("{name}: probe: {e}"));
        assert_eq!(probed, info, "{name}: probe says what load decoded");
        compared += 1;
    }
    let readable = files
        .iter()
        .filter(|f| f["ok"] == Value::Bool(true))
        .count();
    assert_eq!(
        compared,
        readable - REFUSED_ON_PURPOSE.len(),
        "every file libsndfile reads was compared, bar the deliberate refusals"
    );
}

#[test]
fn release_style_header_is_read_in_full_with_one_note() {
    let path = fixture("wav_corpus/block_align_4_mono16.wav");
    let (audio, info) = load(&path).expect("load");
    assert_eq!(audio.samples.len(), 240, "every sample, not half of them");
    assert_eq!(info.notes.len(), 1, "{:?}", info.notes);
    assert!(
        info.notes[0].contains("block_align is 4"),
        "{:?}",
        info.notes
    );
    assert!(info.notes[0].contains("using 2"), "{:?}", info.notes);
}

#[test]
fn refusals_say_what_is_wrong() {
    let expect = [
        ("data_before_fmt.wav", "comes before its fmt chunk"),
        ("no_fmt.wav", "no fmt chunk"),
        ("no_data.wav", "no data chunk"),
        ("sample_rate_0.wav", "sample rate of 0 Hz"),
        ("sample_rate_ffffffff.wav", "sample rate of 4294967295 Hz"),
        ("channels_0.wav", "0 channels"),
        ("unknown_codec_1234.wav", "format tag 0x1234"),
        ("two_fmt_chunks.wav", "two fmt chunks"),
    ];
    for (name, words) in expect {
        let path = fixture(&format!("wav_corpus/{name}"));
        for err in [
            load(&path).map(|_| ()).expect_err(name),
            probe(&path).map(|_| ()).expect_err(name),
        ] {
            let msg = assert_names(&err, name);
            assert!(msg.contains(words), "{name}: {msg}");
            assert_eq!(err.path(), Some(Path::new(&path)));
        }
    }
}
