//! Spectrogram files from recordings, as `lungsound features` writes them:
//! [`compute_file`] and [`write_outputs`] for one recording,
//! [`compute_folder`] for every recording below a folder.
//!
//! A spectrogram is written as a float32 `.npy` ([`write_npy`]) and/or a PNG:
//! either the bare one-pixel-per-bin image ([`PngStyle::Raw`], on a dB scale
//! unless already in dB or log-compressed) or a figure with axes drawn by a
//! [`FigureWriter`] (`lungsound_report::SpectrogramFigures`: this crate comes
//! before the plotting one in the pipeline, so the caller hands it in).

use std::panic::{AssertUnwindSafe, catch_unwind};
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, PoisonError};

use ndarray::Array2;
use rayon::prelude::*;

use crate::db::{AMPLITUDE_AMIN, POWER_AMIN, TOP_DB};
use crate::{
    Colormap, DbRef, Error, FeatureConfig, FeatureExtractor, FeatureKind, amplitude_to_db,
    power_to_db, write_npy, write_png,
};

/// Draws the PNG figure of a spectrogram: time and frequency axes, a colour
/// bar, a title. `lungsound_report::SpectrogramFigures` is the one
/// `lungsound features --png` uses.
pub trait FigureWriter: Sync {
    /// Writes `png`, the figure of `spectrogram`, computed with `config` from
    /// `input` decoded (or resampled) at `sample_rate` Hz.
    ///
    /// # Errors
    /// Whatever stops the figure from being written; the message names `png`.
    fn write_figure(
        &self,
        spectrogram: &Array2<f32>,
        input: &Path,
        png: &Path,
        config: &FeatureConfig,
        sample_rate: u32,
        colormap: Colormap,
    ) -> Result<(), Box<dyn std::error::Error + Send + Sync>>;
}

/// Which PNG [`write_outputs`] writes.
#[derive(Clone, Copy)]
pub enum PngStyle<'a> {
    /// The bare array image: one pixel per (bin, frame), lowest frequency at
    /// the bottom, no axes (model input).
    Raw,
    /// A figure drawn by the given writer.
    Figure(&'a dyn FigureWriter),
}

impl std::fmt::Debug for PngStyle<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            Self::Raw => "Raw",
            Self::Figure(_) => "Figure(..)",
        })
    }
}

/// How [`write_outputs`] draws a PNG.
#[derive(Debug, Clone, Copy)]
pub struct PngOptions<'a> {
    /// Raw image or figure.
    pub style: PngStyle<'a>,
    /// Colour map of the image (and of the figure's colour bar).
    pub colormap: Colormap,
}

/// What [`compute_folder`] should do.
#[derive(Debug, Clone)]
pub struct FolderOptions<'a> {
    /// The spectrogram to compute (validated per sample rate; an invalid one
    /// fails every file).
    pub config: FeatureConfig,
    /// Resample every recording to this rate first; `None` keeps each file's.
    pub sample_rate: Option<u32>,
    /// Folder of `{file stem}.npy` files (created if needed); `None` writes none.
    pub out_dir: Option<PathBuf>,
    /// Folder of `{file stem}.png` files (created if needed); `None` writes none.
    pub png_dir: Option<PathBuf>,
    /// How the PNGs are drawn.
    pub png: PngOptions<'a>,
}

/// What [`compute_folder`] did.
#[derive(Debug, Default)]
pub struct FolderReport {
    /// Recordings found (and attempted).
    pub n_files: usize,
    /// Recordings that failed, in file order, each with its error (every one
    /// names the file or the output that could not be written); the others
    /// were written.
    pub failures: Vec<(PathBuf, Error)>,
}

/// Decodes `path` (resampled to `sample_rate` when given) and computes its
/// spectrogram; returns it with the sample rate it was computed at.
///
/// # Errors
/// [`Error::Audio`] when the file cannot be read or decoded;
/// [`Error::InvalidForFile`] when `config` is invalid at the file's rate.
pub fn compute_file(
    path: &Path,
    config: &FeatureConfig,
    sample_rate: Option<u32>,
) -> Result<(Array2<f32>, u32), Error> {
    let audio = load(path, sample_rate)?;
    let extractor = FeatureExtractor::new(config, audio.sample_rate).map_err(|source| {
        Error::InvalidForFile {
            path: path.to_path_buf(),
            source: Box::new(source),
        }
    })?;
    Ok((extractor.compute(&audio.samples), audio.sample_rate))
}

/// Writes the `.npy` (creating its folder) and the PNG of `input`'s
/// `spectrogram`, each when a path is given. `config` and `sample_rate` are
/// those it was computed with: they say what the rows mean.
///
/// # Errors
/// [`Error::Io`] when the `.npy`'s folder cannot be created,
/// [`Error::WriteNpy`], [`Error::Png`] or [`Error::Figure`] when a file cannot
/// be written.
pub fn write_outputs(
    spectrogram: &Array2<f32>,
    input: &Path,
    npy: Option<&Path>,
    png: Option<&Path>,
    png_options: &PngOptions<'_>,
    config: &FeatureConfig,
    sample_rate: u32,
) -> Result<(), Error> {
    if let Some(npy) = npy {
        if let Some(parent) = npy.parent().filter(|p| !p.as_os_str().is_empty()) {
            std::fs::create_dir_all(parent).map_err(|source| Error::Io {
                action: "create",
                path: parent.to_path_buf(),
                source,
            })?;
        }
        write_npy(npy, spectrogram)?;
    }
    let Some(png) = png else {
        return Ok(());
    };
    match png_options.style {
        PngStyle::Raw => write_raw_png(spectrogram, png, config, png_options.colormap),
        PngStyle::Figure(writer) => writer
            .write_figure(
                spectrogram,
                input,
                png,
                config,
                sample_rate,
                png_options.colormap,
            )
            .map_err(Error::Figure),
    }
}

/// The one-pixel-per-bin image, on a dB scale (top 80 dB) unless already in
/// dB or log-compressed.
fn write_raw_png(
    spectrogram: &Array2<f32>,
    png: &Path,
    config: &FeatureConfig,
    colormap: Colormap,
) -> Result<(), Error> {
    let visible = match (config.db, config.kind) {
        (true, _) | (false, FeatureKind::LogStft) => spectrogram.clone(),
        (false, FeatureKind::Mel) => {
            power_to_db(spectrogram, DbRef::Max, POWER_AMIN, Some(TOP_DB))?
        }
        (false, FeatureKind::Stft) => {
            amplitude_to_db(spectrogram, DbRef::Max, AMPLITUDE_AMIN, Some(TOP_DB))?
        }
    };
    write_png(png, &visible, colormap)
}

/// Computes the spectrogram of every `.wav`/`.flac` below `dir` (recursively,
/// in sorted path order) in parallel and writes `{file stem}.npy` into
/// `options.out_dir` and `{file stem}.png` into `options.png_dir`, each when
/// given (both folders are created first). One [`FeatureExtractor`] per
/// sample rate is shared by the threads.
///
/// A file that fails, even by a panic inside its work (a bug, reported as
/// [`Error::Panicked`]), is listed in the report and the batch goes on.
/// `progress(done, total)` is called with `(0, total)` once the files are
/// listed and the folders created, then once per finished file from the
/// worker threads (each call after the first is one more file).
///
/// # Errors
/// [`Error::Io`] when a folder cannot be listed or an output folder cannot be
/// created; [`Error::NoAudioFiles`] when `dir` holds no recording.
pub fn compute_folder(
    dir: &Path,
    options: &FolderOptions<'_>,
    progress: &(dyn Fn(usize, usize) + Sync),
) -> Result<FolderReport, Error> {
    let files = audio_files(dir)?;
    if files.is_empty() {
        return Err(Error::NoAudioFiles {
            dir: dir.to_path_buf(),
        });
    }
    for out in [&options.out_dir, &options.png_dir].into_iter().flatten() {
        std::fs::create_dir_all(out).map_err(|source| Error::Io {
            action: "create",
            path: out.clone(),
            source,
        })?;
    }
    let total = files.len();
    progress(0, total);
    // Files of one dataset nearly always share a rate, so the cache stays tiny.
    let extractors = Mutex::new(Vec::<(u32, Arc<FeatureExtractor>)>::new());
    let done = std::sync::atomic::AtomicUsize::new(0);
    let failures = files
        .par_iter()
        .filter_map(|file| {
            let result = isolate(file, || compute_one(file, options, &extractors)).and_then(|r| r);
            let n = done.fetch_add(1, std::sync::atomic::Ordering::Relaxed) + 1;
            progress(n, total);
            result.err().map(|err| (file.clone(), err))
        })
        .collect();
    Ok(FolderReport {
        n_files: total,
        failures,
    })
}

/// One file of [`compute_folder`]: decode, compute, write.
fn compute_one(
    file: &Path,
    options: &FolderOptions<'_>,
    extractors: &Mutex<Vec<(u32, Arc<FeatureExtractor>)>>,
) -> Result<(), Error> {
    let audio = load(file, options.sample_rate)?;
    let extractor = extractor_for(extractors, &options.config, audio.sample_rate, file)?;
    let spectrogram = extractor.compute(&audio.samples);
    let stem = file.file_stem().unwrap_or_default().to_string_lossy();
    let npy = options
        .out_dir
        .as_ref()
        .map(|d| d.join(format!("{stem}.npy")));
    let png = options
        .png_dir
        .as_ref()
        .map(|d| d.join(format!("{stem}.png")));
    write_outputs(
        &spectrogram,
        file,
        npy.as_deref(),
        png.as_deref(),
        &options.png,
        &options.config,
        audio.sample_rate,
    )
}

/// The shared extractor for `sample_rate`, built on first use.
fn extractor_for(
    cache: &Mutex<Vec<(u32, Arc<FeatureExtractor>)>>,
    config: &FeatureConfig,
    sample_rate: u32,
    file: &Path,
) -> Result<Arc<FeatureExtractor>, Error> {
    // Entries are only ever pushed whole, so a cache poisoned by a panic
    // elsewhere is still consistent.
    let mut cache = cache.lock().unwrap_or_else(PoisonError::into_inner);
    if let Some((_, extractor)) = cache.iter().find(|(rate, _)| *rate == sample_rate) {
        return Ok(extractor.clone());
    }
    let extractor = Arc::new(
        FeatureExtractor::new(config, sample_rate).map_err(|source| Error::InvalidAtRate {
            path: file.to_path_buf(),
            sample_rate,
            source: Box::new(source),
        })?,
    );
    cache.push((sample_rate, extractor.clone()));
    Ok(extractor)
}

/// Runs the work on one file of a batch so that a panic inside it (a bug in a decoder, say)
/// becomes [`Error::Panicked`] naming `file`, and the batch goes on. The last line of
/// defence: every known bad input is an ordinary error long before this.
pub fn isolate<T>(file: &Path, work: impl FnOnce() -> T) -> Result<T, Error> {
    catch_unwind(AssertUnwindSafe(work)).map_err(|payload| {
        let message = payload
            .downcast_ref::<&str>()
            .map(|s| (*s).to_string())
            .or_else(|| payload.downcast_ref::<String>().cloned())
            .unwrap_or_else(|| "unknown panic".to_string());
        Error::Panicked {
            path: file.to_path_buf(),
            message,
        }
    })
}

fn load(file: &Path, sample_rate: Option<u32>) -> Result<lungsound_audio::Audio, Error> {
    Ok(match sample_rate {
        Some(rate) => lungsound_audio::load_resampled(file, rate)?,
        None => lungsound_audio::load(file)?.0,
    })
}

/// Every `.wav`/`.flac` below `dir`, sorted, so runs are reproducible.
fn audio_files(dir: &Path) -> Result<Vec<PathBuf>, Error> {
    let list_error = |dir: &Path| {
        let path = dir.to_path_buf();
        move |source| Error::Io {
            action: "list",
            path,
            source,
        }
    };
    let mut files = Vec::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(dir) = stack.pop() {
        for entry in std::fs::read_dir(&dir).map_err(list_error(&dir))? {
            let path = entry.map_err(list_error(&dir))?.path();
            if path.is_dir() {
                stack.push(path);
            } else if lungsound_audio::is_audio_path(&path) {
                files.push(path);
            }
        }
    }
    files.sort();
    Ok(files)
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]

    use std::sync::atomic::{AtomicUsize, Ordering};

    use lungsound_testutil::{sine, temp_dir, write_wav_i16};

    use super::*;
    use crate::read_npy;

    const SR: u32 = 8000;

    /// A figure writer that writes a marker file, fails, or panics.
    struct Fake(&'static str);

    impl FigureWriter for Fake {
        fn write_figure(
            &self,
            spectrogram: &Array2<f32>,
            input: &Path,
            png: &Path,
            _: &FeatureConfig,
            sample_rate: u32,
            _: Colormap,
        ) -> Result<(), Box<dyn std::error::Error + Send + Sync>> {
            match self.0 {
                "panic" => panic!("figure bug"),
                "fail" => Err(format!("cannot draw {}", png.display()).into()),
                _ => {
                    let name = input.file_name().unwrap().to_string_lossy();
                    let text = format!("{name} {:?} {sample_rate}", spectrogram.dim());
                    std::fs::write(png, text)?;
                    Ok(())
                }
            }
        }
    }

    fn options(out: &Path, figure: &'static Fake) -> FolderOptions<'static> {
        FolderOptions {
            config: FeatureConfig::default(),
            sample_rate: None,
            out_dir: Some(out.join("npy")),
            png_dir: Some(out.join("png")),
            png: PngOptions {
                style: PngStyle::Figure(figure),
                colormap: Colormap::Magma,
            },
        }
    }

    /// `in/good.wav`, `in/sub/also.wav` (a tone each) and an empty `in/bad.wav`.
    fn folder(dir: &Path) -> PathBuf {
        let input = dir.join("in");
        std::fs::create_dir_all(input.join("sub")).unwrap();
        write_wav_i16(&input.join("good.wav"), &sine(440.0, SR, 1.0, 0.3), SR);
        write_wav_i16(&input.join("sub/also.wav"), &sine(880.0, SR, 0.5, 0.3), SR);
        std::fs::write(input.join("bad.wav"), b"").unwrap();
        std::fs::write(input.join("notes.txt"), b"not audio").unwrap();
        input
    }

    #[test]
    fn a_bad_file_is_one_failure_and_the_good_ones_are_written() {
        let dir = temp_dir();
        let input = folder(dir.path());
        let calls = AtomicUsize::new(0);
        let report = compute_folder(&input, &options(dir.path(), &Fake("ok")), &|done, total| {
            assert_eq!(total, 3);
            assert!(done <= total);
            calls.fetch_add(1, Ordering::Relaxed);
        })
        .unwrap();
        assert_eq!(report.n_files, 3);
        assert_eq!(calls.load(Ordering::Relaxed), 4);
        assert_eq!(report.failures.len(), 1, "{:?}", report.failures);
        let (path, err) = &report.failures[0];
        assert_eq!(path, &input.join("bad.wav"));
        assert!(matches!(err, Error::Audio(_)), "{err:?}");
        assert!(err.to_string().contains("bad.wav"), "{err}");

        // The .npy round-trips to what compute_file gives; the figure saw the input and rate.
        let good = input.join("good.wav");
        let (expected, rate) = compute_file(&good, &FeatureConfig::default(), None).unwrap();
        assert_eq!(rate, SR);
        assert_eq!(
            read_npy(&dir.path().join("npy/good.npy")).unwrap(),
            expected
        );
        assert!(dir.path().join("npy/also.npy").is_file());
        assert!(!dir.path().join("npy/bad.npy").exists());
        let figure = std::fs::read_to_string(dir.path().join("png/good.png")).unwrap();
        assert_eq!(figure, format!("good.wav {:?} {SR}", expected.dim()));
    }

    #[test]
    fn a_panic_or_a_failed_figure_is_that_files_failure() {
        let dir = temp_dir();
        let input = folder(dir.path());
        let report =
            compute_folder(&input, &options(dir.path(), &Fake("panic")), &|_, _| {}).unwrap();
        assert_eq!(report.failures.len(), 3);
        let (path, err) = &report.failures[2];
        assert_eq!(path, &input.join("sub/also.wav"));
        assert_eq!(
            err.to_string(),
            format!(
                "{}: internal error while reading this file (figure bug); skipped — please report it",
                path.display()
            )
        );
        // The .npy was written before the figure panicked.
        assert!(dir.path().join("npy/also.npy").is_file());

        let report =
            compute_folder(&input, &options(dir.path(), &Fake("fail")), &|_, _| {}).unwrap();
        let (_, err) = &report.failures[1];
        assert!(matches!(err, Error::Figure(_)), "{err:?}");
        assert_eq!(
            err.to_string(),
            format!("cannot draw {}", dir.path().join("png/good.png").display())
        );
    }

    #[test]
    fn the_raw_png_is_the_db_image_of_a_power_spectrogram() {
        let dir = temp_dir();
        let wav = dir.path().join("x.wav");
        write_wav_i16(&wav, &sine(600.0, SR, 1.0, 0.3), SR);
        let config = FeatureConfig::default();
        let (mel, rate) = compute_file(&wav, &config, Some(4000)).unwrap();
        assert_eq!(rate, 4000);
        let png = dir.path().join("raw.png");
        let npy = dir.path().join("deep/er/x.npy");
        let raw = PngOptions {
            style: PngStyle::Raw,
            colormap: Colormap::Gray,
        };
        write_outputs(&mel, &wav, Some(&npy), Some(&png), &raw, &config, rate).unwrap();
        assert_eq!(read_npy(&npy).unwrap(), mel);
        let expected = dir.path().join("expected.png");
        let db = power_to_db(&mel, DbRef::Max, POWER_AMIN, Some(TOP_DB)).unwrap();
        write_png(&expected, &db, Colormap::Gray).unwrap();
        assert_eq!(
            std::fs::read(&png).unwrap(),
            std::fs::read(&expected).unwrap()
        );
        // Already in dB: drawn as it is.
        let config = FeatureConfig { db: true, ..config };
        write_outputs(&db, &wav, None, Some(&png), &raw, &config, rate).unwrap();
        assert_eq!(
            std::fs::read(&png).unwrap(),
            std::fs::read(&expected).unwrap()
        );
    }

    #[test]
    fn invalid_parameters_and_empty_folders_are_errors_naming_what() {
        let dir = temp_dir();
        let input = folder(dir.path());
        let config = FeatureConfig {
            fmax: Some(6000.0),
            ..FeatureConfig::default()
        };
        let err = compute_file(&input.join("good.wav"), &config, None).unwrap_err();
        assert!(matches!(err, Error::InvalidForFile { .. }), "{err:?}");
        assert!(
            err.to_string()
                .starts_with("invalid feature parameters for "),
            "{err}"
        );
        let options = FolderOptions {
            config,
            ..options(dir.path(), &Fake("ok"))
        };
        let report = compute_folder(&input, &options, &|_, _| {}).unwrap();
        assert_eq!(report.failures.len(), 3);
        let (path, err) = &report.failures[1];
        assert!(
            matches!(err, Error::InvalidAtRate { path: p, sample_rate: SR, .. } if p == path),
            "{err:?}"
        );
        assert_eq!(err.to_string(), "invalid feature parameters at 8000 Hz");

        let empty = dir.path().join("empty");
        std::fs::create_dir(&empty).unwrap();
        let err = compute_folder(&empty, &options, &|_, _| {}).unwrap_err();
        assert!(matches!(err, Error::NoAudioFiles { .. }), "{err:?}");
        let err = compute_folder(&dir.path().join("missing"), &options, &|_, _| {}).unwrap_err();
        assert!(err.to_string().starts_with("cannot list "), "{err}");
    }
}
