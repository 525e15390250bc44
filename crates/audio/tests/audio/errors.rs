//! Bad input: every case is an error of the right kind whose message names the file.

use std::path::Path;

use lungsound_audio::{Error, decode_bytes, load, probe};
use lungsound_testutil::{sine, temp_dir, wav_bytes, write_wav_i16};

use crate::fixture;

/// Asserts the message names the file and returns it for further checks.
fn message_names(err: &Error, path: &Path) -> String {
    let msg = err.to_string();
    let name = path
        .file_name()
        .and_then(|n| n.to_str())
        .expect("file name");
    assert!(msg.contains(name), "message does not name {name}: {msg}");
    assert_eq!(err.path(), Some(path), "path() of {msg}");
    msg
}

fn write(path: &Path, bytes: &[u8]) {
    std::fs::write(path, bytes).expect("write test file");
}

#[test]
fn missing_file_is_a_read_error_for_load_and_probe() {
    let dir = temp_dir();
    let path = dir.path().join("missing.wav");
    for err in [
        load(&path).map(|_| ()).expect_err("load"),
        probe(&path).map(|_| ()).expect_err("probe"),
    ] {
        match &err {
            Error::Read { source, .. } => assert_eq!(source.kind(), std::io::ErrorKind::NotFound),
            other => panic!("expected Read, got {other:?}"),
        }
        let msg = message_names(&err, &path);
        assert!(msg.starts_with("cannot read"), "{msg}");
    }
}

#[test]
fn a_directory_is_a_read_error() {
    let dir = temp_dir();
    let path = dir.path().join("folder.wav");
    std::fs::create_dir(&path).expect("mkdir");
    for err in [
        load(&path).map(|_| ()).expect_err("load"),
        probe(&path).map(|_| ()).expect_err("probe"),
    ] {
        assert!(matches!(err, Error::Read { .. }), "{err:?}");
        assert!(message_names(&err, &path).contains("directory"));
    }
}

#[test]
fn empty_file_is_reported_as_empty() {
    let dir = temp_dir();
    let path = dir.path().join("empty.flac");
    write(&path, b"");
    for err in [
        load(&path).map(|_| ()).expect_err("load"),
        probe(&path).map(|_| ()).expect_err("probe"),
    ] {
        assert!(matches!(err, Error::EmptyFile { .. }), "{err:?}");
        assert!(message_names(&err, &path).contains("0 bytes"));
    }
    let err = decode_bytes(&[], "upload.wav")
        .map(|_| ())
        .expect_err("bytes");
    assert!(matches!(err, Error::EmptyFile { .. }));
    assert!(err.to_string().contains("upload.wav"));
}

#[test]
fn text_renamed_to_wav_is_not_audio_and_quotes_its_start() {
    let dir = temp_dir();
    let path = dir.path().join("notes.wav");
    write(&path, b"0.036\t0.579\t0\t0\n0.579\t2.45\t0\t1\n");
    for err in [
        load(&path).map(|_| ()).expect_err("load"),
        probe(&path).map(|_| ()).expect_err("probe"),
    ] {
        assert!(matches!(err, Error::NotAudio { .. }), "{err:?}");
        let msg = message_names(&err, &path);
        assert!(
            msg.contains("not a WAV or FLAC file") && msg.contains("\"0.036\\t0.579\\t\""),
            "{msg}"
        );
    }
    let ogg = decode_bytes(b"OggS\0\x02\0\0\0\0\0\0\0\0", "clip.flac")
        .map(|_| ())
        .expect_err("ogg");
    assert!(
        matches!(ogg, Error::NotAudio { .. })
            && ogg.to_string().contains("bytes 4f 67 67 53 00 02"),
        "{ogg}"
    );
    let riff_avi = decode_bytes(b"RIFF\x10\0\0\0AVI LIST", "movie.wav")
        .map(|_| ())
        .expect_err("avi");
    assert!(riff_avi.to_string().contains("\"AVI \""), "{riff_avi}");
    let tiny = decode_bytes(b"RI", "tiny.wav")
        .map(|_| ())
        .expect_err("tiny");
    assert!(matches!(tiny, Error::NotAudio { .. }), "{tiny}");
}

#[test]
fn truncated_wav_keeps_its_whole_frames_and_says_so_like_libsndfile() {
    let dir = temp_dir();
    let full = dir.path().join("full.wav");
    let written = sine(300.0, 8000, 1.25, 0.5); // 10 000 frames
    write_wav_i16(&full, &written, 8000);
    let bytes = std::fs::read(&full).expect("read");
    let path = dir.path().join("cut.wav");
    // 1001 bytes short: 500.5 frames are missing, so 9499 whole frames and one stray byte remain.
    write(&path, &bytes[..bytes.len() - 1001]);

    let (audio, info) = load(&path).expect("a cut WAV is read up to the cut");
    let (full_audio, _) = load(&full).expect("full");
    assert_eq!(audio.samples.len(), 9_499);
    assert_eq!(audio.samples[..], full_audio.samples[..9_499]);
    assert_eq!(info.n_frames, 9_499);
    let notes = info.notes.join(" | ");
    assert!(
        notes.contains("declares 20000 bytes") && notes.contains("9499 whole frames"),
        "{notes}"
    );
    assert!(notes.contains("ends inside a frame"), "{notes}");

    // probe reads only the chunk headers and agrees with load.
    let probed = probe(&path).expect("probe");
    assert_eq!(probed.n_frames, 9_499);
    assert_eq!(probed.notes, info.notes);
}

#[test]
fn wav_cut_inside_the_header_is_corrupt() {
    let bytes = wav_bytes(&[0.1, 0.2], 8000, 1, 16, false);
    let err = decode_bytes(&bytes[..30], "head.wav")
        .map(|_| ())
        .expect_err("cut header");
    assert!(matches!(err, Error::Corrupt { .. }), "{err:?}");
    assert!(err.to_string().contains("head.wav"));
}

#[test]
fn wav_without_frames_is_no_samples_for_load_but_probes_as_zero_frames() {
    let dir = temp_dir();
    let path = dir.path().join("silent.wav");
    write(&path, &wav_bytes(&[], 8000, 1, 16, false));
    let err = load(&path).map(|_| ()).expect_err("load");
    assert!(matches!(err, Error::NoSamples { .. }), "{err:?}");
    assert!(message_names(&err, &path).contains("no audio samples"));
    assert_eq!(probe(&path).expect("probe").n_frames, 0);
}

#[test]
fn nan_and_infinite_samples_are_rejected_with_their_position() {
    let cases: [(&str, u16, u16, usize, f32); 3] = [
        ("nan32.wav", 32, 1, 3, f32::NAN),
        ("inf64.wav", 64, 1, 5, f32::INFINITY),
        ("neginf_stereo.wav", 32, 2, 7, f32::NEG_INFINITY), // frame 3, right channel
    ];
    for (name, bits, channels, index, value) in cases {
        let mut x = vec![0.25f32; 20];
        x[index] = value;
        let bytes = wav_bytes(&x, 8000, channels, bits, true);
        let err = decode_bytes(&bytes, name).map(|_| ()).expect_err(name);
        match &err {
            Error::NonFinite { frame, .. } => {
                assert_eq!(*frame, (index / usize::from(channels)) as u64, "{name}")
            }
            other => panic!("{name}: expected NonFinite, got {other:?}"),
        }
        let msg = err.to_string();
        assert!(msg.contains(name) && msg.contains("non-finite"), "{msg}");
    }
}

#[test]
fn unsupported_encodings_are_named() {
    // WAVE_FORMAT_MPEGLAYER3 (0x0055) in an otherwise valid header.
    let mut mp3_in_wav = wav_bytes(&[0.0; 8], 8000, 1, 16, false);
    mp3_in_wav[20..22].copy_from_slice(&0x55u16.to_le_bytes());
    let err = decode_bytes(&mp3_in_wav, "mp3.wav")
        .map(|_| ())
        .expect_err("mp3 in wav");
    assert!(matches!(err, Error::Unsupported { .. }), "{err:?}");
    assert!(err.to_string().contains("mp3.wav"));

    // RF64 and RIFX are read (see the corpus test); BW64 is not.
    let mut bytes = wav_bytes(&[0.0; 8], 8000, 1, 16, false);
    bytes[..4].copy_from_slice(b"BW64");
    let err = decode_bytes(&bytes, "odd.wav")
        .map(|_| ())
        .expect_err("BW64");
    assert!(matches!(err, Error::Unsupported { .. }), "{err:?}");
    assert!(
        err.to_string().contains("BW64") && err.to_string().contains("odd.wav"),
        "{err}"
    );
}

#[test]
fn streamed_wav_without_a_data_length_reads_to_the_end() {
    let mut bytes = wav_bytes(&[0.5, -0.5, 0.25], 8000, 1, 16, false);
    bytes[4..8].copy_from_slice(&u32::MAX.to_le_bytes());
    bytes[40..44].copy_from_slice(&u32::MAX.to_le_bytes());
    let (audio, info) = decode_bytes(&bytes, "piped.wav").expect("streamed wav");
    assert_eq!(audio.samples, vec![0.5, -0.5, 0.25]);
    assert_eq!(info.n_frames, 3);
    // probe cannot take the count from the header, so it decodes to count.
    let dir = temp_dir();
    let path = dir.path().join("piped.wav");
    write(&path, &bytes);
    assert_eq!(probe(&path).expect("probe").n_frames, 3);
}

#[test]
fn truncated_flac_is_an_error() {
    let bytes = std::fs::read(fixture("tone_24bit_stereo_44k.flac")).expect("fixture");
    for cut in [bytes.len() / 2, bytes.len() - 3] {
        let err = decode_bytes(&bytes[..cut], "cut.flac")
            .map(|_| ())
            .expect_err("truncated flac");
        match &err {
            Error::Truncated {
                expected: 2205,
                decoded,
                ..
            } => assert!(*decoded < 2205),
            other => panic!("cut at {cut}: expected Truncated, got {other:?}"),
        }
        assert!(err.to_string().contains("cut.flac"));
    }
    let err = decode_bytes(&bytes[..20], "stub.flac")
        .map(|_| ())
        .expect_err("header only");
    assert!(matches!(err, Error::Corrupt { .. }), "{err:?}");
}

#[test]
fn damaged_flac_frame_is_an_error() {
    let mut bytes = std::fs::read(fixture("tone_24bit_stereo_44k.flac")).expect("fixture");
    let middle = bytes.len() / 2;
    for b in &mut bytes[middle..middle + 64] {
        *b ^= 0x5a;
    }
    let err = decode_bytes(&bytes, "damaged.flac")
        .map(|_| ())
        .expect_err("damaged flac");
    assert!(
        matches!(err, Error::Corrupt { .. } | Error::Truncated { .. }),
        "{err:?}"
    );
    assert!(err.to_string().contains("damaged.flac"), "{err}");
}

#[test]
fn a_decode_limit_stops_long_audio_even_when_a_flac_header_says_nothing() {
    use lungsound_audio::decode_bytes_with_limit;
    // 200 frames at 44.1 kHz = 4.5 ms.
    let flac = std::fs::read(fixture("wav_corpus/flac16_stereo.flac")).expect("fixture");
    assert!(decode_bytes_with_limit(&flac, "f.flac", 1.0).is_ok());
    let err = decode_bytes_with_limit(&flac, "f.flac", 0.001)
        .map(|_| ())
        .expect_err("over the limit");
    assert!(matches!(err, Error::TooLong { .. }), "{err:?}");
    assert!(err.to_string().contains("f.flac") && err.to_string().contains("0.001 s"));
    // STREAMINFO total samples set to 0 ("unknown"): the limit still holds while decoding.
    let mut unknown = flac.clone();
    unknown[21] &= 0xF0;
    unknown[22..26].fill(0);
    let err = decode_bytes_with_limit(&unknown, "f.flac", 0.001)
        .map(|_| ())
        .expect_err("unknown length, over the limit");
    assert!(matches!(err, Error::TooLong { .. }), "{err:?}");
    // WAV: refused from the header, before decoding.
    let wav = wav_bytes(&[0.1; 800], 8000, 1, 16, false);
    assert!(decode_bytes_with_limit(&wav, "w.wav", 0.1).is_ok());
    let err = decode_bytes_with_limit(&wav, "w.wav", 0.05)
        .map(|_| ())
        .expect_err("over");
    assert!(matches!(err, Error::TooLong { .. }), "{err:?}");
}
