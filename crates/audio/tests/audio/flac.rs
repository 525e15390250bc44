//! FLAC decoding against the committed fixtures (made by `fixtures/make_fixtures.py` with
//! the reference `flac` encoder): FLAC is lossless, so every sample must equal the WAV
//! it was encoded from, read independently by hound.

use lungsound_audio::{Codec, SampleFormat, decode_bytes, load, probe};

use crate::{fixture, hound_ints, scaled_mono};

#[test]
fn flac_fixtures_decode_to_the_samples_of_their_source_wav() {
    for (name, rate, bits, channels) in [
        ("tone_16bit_mono_8k", 8000, 16, 1),
        ("tone_24bit_stereo_44k", 44_100, 24, 2),
    ] {
        let flac = fixture(&format!("{name}.flac"));
        let (audio, info) = load(&flac).expect("load flac");
        assert_eq!(
            (
                info.codec,
                info.sample_rate,
                info.channels,
                info.bits_per_sample,
                info.sample_format
            ),
            (
                Codec::Flac,
                rate,
                channels,
                Some(u32::from(bits)),
                SampleFormat::Int
            ),
            "{name}"
        );
        assert_eq!(info.n_frames, u64::from(rate / 20), "{name}: 50 ms");
        assert_eq!(probe(&flac).expect("probe"), info, "{name}");

        let (spec, ints) = hound_ints(&fixture(&format!("{name}.wav")));
        assert_eq!(
            (spec.sample_rate, spec.bits_per_sample, spec.channels),
            (rate, bits, channels)
        );
        let expected = scaled_mono(&ints, usize::from(channels), bits);
        assert_eq!(
            audio.samples, expected,
            "{name}: FLAC and WAV samples differ"
        );

        // Our own WAV path agrees too.
        let (from_wav, _) = load(&fixture(&format!("{name}.wav"))).expect("load wav");
        assert_eq!(audio.samples, from_wav.samples, "{name}");
    }
}

#[test]
fn flac_upload_decodes_like_the_file() {
    let path = fixture("tone_16bit_mono_8k.flac");
    let bytes = std::fs::read(&path).expect("fixture");
    assert_eq!(
        decode_bytes(&bytes, "x.flac").expect("bytes"),
        load(&path).expect("file")
    );
}

#[test]
fn id3_tag_in_front_of_flac_is_skipped() {
    let flac = std::fs::read(fixture("tone_16bit_mono_8k.flac")).expect("fixture");
    // ID3v2.4 header with a 20-byte (syncsafe) body of padding.
    let mut bytes = b"ID3\x04\0\0\0\0\0\x14".to_vec();
    bytes.extend_from_slice(&[0u8; 20]);
    bytes.extend_from_slice(&flac);
    let tagged = decode_bytes(&bytes, "tagged.flac").expect("tagged");
    assert_eq!(tagged, decode_bytes(&flac, "plain.flac").expect("plain"));
}
