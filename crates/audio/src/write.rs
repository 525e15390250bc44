//! Writing mono audio as a 32-bit float WAV file.

use std::path::Path;

use crate::error::Error;

/// Writes mono `samples` to `path` as a 32-bit IEEE float WAV at `sample_rate` Hz,
/// replacing any existing file. Values are written as they are (no clipping to ±1).
///
/// # Errors
/// [`Error::InvalidSampleRate`] for a rate of 0, [`Error::NonFiniteInput`] if a sample is
/// NaN or infinite (checked before the file is created), [`Error::Write`] for I/O errors.
pub fn write_wav(path: &Path, samples: &[f32], sample_rate: u32) -> Result<(), Error> {
    if sample_rate == 0 {
        return Err(Error::InvalidSampleRate {
            name: "sample_rate",
            value: 0,
        });
    }
    if let Some((index, &value)) = samples.iter().enumerate().find(|(_, x)| !x.is_finite()) {
        return Err(Error::NonFiniteInput {
            path: path.to_path_buf(),
            index,
            value,
        });
    }
    let spec = hound::WavSpec {
        channels: 1,
        sample_rate,
        bits_per_sample: 32,
        sample_format: hound::SampleFormat::Float,
    };
    let write_error = |source| Error::Write {
        path: path.to_path_buf(),
        source,
    };
    let mut writer = hound::WavWriter::create(path, spec).map_err(write_error)?;
    // hound buffers through a BufWriter; one call per sample is cheap.
    for &x in samples {
        writer.write_sample(x).map_err(write_error)?;
    }
    writer.finalize().map_err(write_error)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn writes_float_mono_that_hound_reads_back() {
        let dir = tempfile::tempdir().expect("temp dir");
        let path = dir.path().join("out.wav");
        let samples = [0.0, 0.5, -1.0, 1.5];
        write_wav(&path, &samples, 4000).expect("write");
        let mut reader = hound::WavReader::open(&path).expect("open");
        let spec = reader.spec();
        assert_eq!(
            (spec.channels, spec.sample_rate, spec.bits_per_sample),
            (1, 4000, 32)
        );
        assert_eq!(spec.sample_format, hound::SampleFormat::Float);
        let back: Vec<f32> = reader
            .samples::<f32>()
            .map(|s| s.expect("sample"))
            .collect();
        assert_eq!(back, samples);
    }

    #[test]
    fn rejects_nan_and_zero_rate_without_creating_a_file() {
        let dir = tempfile::tempdir().expect("temp dir");
        let path = dir.path().join("nan.wav");
        let err = write_wav(&path, &[0.0, f32::NAN], 8000).expect_err("nan");
        assert!(
            matches!(err, Error::NonFiniteInput { index: 1, .. }),
            "{err}"
        );
        assert!(err.to_string().contains("nan.wav"));
        assert!(matches!(
            write_wav(&path, &[0.0], 0),
            Err(Error::InvalidSampleRate { .. })
        ));
        assert!(!path.exists());
    }

    #[test]
    fn unwritable_path_names_the_file() {
        let dir = tempfile::tempdir().expect("temp dir");
        let path = dir.path().join("no/such/dir/out.wav");
        let err = write_wav(&path, &[0.0], 8000).expect_err("missing dir");
        assert!(matches!(err, Error::Write { .. }));
        assert!(err.to_string().contains("out.wav"), "{err}");
    }
}
