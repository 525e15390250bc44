//! `lungsound features INPUT --kind mel|stft|logstft [--out FILE.npy] [--png FILE.png]`:
//! spectrograms as float32 `.npy` (`[n_freq, n_frames]`) and/or PNG figures
//! (time and frequency axes, dB colour bar, title; `--png-raw` for the bare
//! one-pixel-per-bin image used as model input).
//!
//! Defaults are librosa 0.11's (see `lungsound_features::FeatureConfig`), at
//! the file's own sample rate unless `--sample-rate` is given. A directory
//! INPUT is processed in parallel, one `.npy` (and PNG) per recording.

use std::path::{Path, PathBuf};

use anyhow::{Context, bail};
use lungsound_features::{Colormap, DbRef, FeatureConfig, FeatureExtractor, FeatureKind};
use lungsound_report::{SpectrogramAxes, write_spectrogram_figure};
use ndarray::Array2;
use rayon::prelude::*;

use crate::outcome::Outcome;
use crate::progress;

/// Arguments of `lungsound features`.
#[derive(Debug, clap::Args)]
pub struct FeaturesArgs {
    /// A WAV/FLAC file, or a folder of them (searched recursively).
    input: PathBuf,
    /// Which spectrogram: mel power, STFT magnitude |S|, or log1p(|S|).
    #[arg(long, default_value = "mel")]
    kind: FeatureKind,
    /// Resample to this rate first, 1000–384000 Hz [default: the file's own rate].
    #[arg(long, value_name = "HZ", value_parser = crate::limits::sample_rate)]
    sample_rate: Option<u32>,
    /// FFT size (librosa `n_fft`), 2–65536 [default: 2048].
    #[arg(long, value_name = "N", value_parser = crate::limits::fft_size)]
    n_fft: Option<usize>,
    /// Hop between frames in samples (librosa `hop_length`), 1–65536
    /// [default: n_fft / 4, so 512 with the default n_fft].
    #[arg(long = "hop", visible_alias = "hop-length", value_name = "N", value_parser = crate::limits::hop_size)]
    hop_length: Option<usize>,
    /// Number of mel bands, 1–1024 [default: 128].
    #[arg(long, value_name = "N", value_parser = crate::limits::mel_bands)]
    n_mels: Option<usize>,
    /// Lowest mel frequency [default: 0].
    #[arg(long, value_name = "HZ")]
    fmin: Option<f32>,
    /// Highest mel frequency [default: sample_rate / 2].
    #[arg(long, value_name = "HZ")]
    fmax: Option<f32>,
    /// Convert to decibels relative to the maximum (power_to_db for mel,
    /// amplitude_to_db for stft; top_db 80).
    #[arg(long)]
    db: bool,
    /// Output `.npy` file, or a folder when INPUT is a folder. Optional when
    /// `--png` is given.
    #[arg(long)]
    out: Option<PathBuf>,
    /// Write a PNG figure (a folder of them when INPUT is a folder): time in
    /// seconds, frequency in Hz (mel-spaced for mel), a colour bar in dB relative
    /// to the maximum and a title with the file and settings. Non-dB
    /// spectrograms are drawn on a dB scale (top 80 dB).
    #[arg(long, value_name = "FILE.png")]
    png: Option<PathBuf>,
    /// Make `--png` the bare array image instead of the figure: one pixel per
    /// (bin, frame), no axes, lowest frequency at the bottom (model input).
    #[arg(long, requires = "png")]
    png_raw: bool,
    /// PNG colormap.
    #[arg(long, default_value = "magma")]
    colormap: Colormap,
}

impl FeaturesArgs {
    fn config(&self) -> FeatureConfig {
        let mut config = FeatureConfig::with_kind(self.kind);
        if let Some(n_fft) = self.n_fft {
            config.n_fft = n_fft;
            // librosa: hop_length defaults to win_length // 4 = n_fft // 4.
            config.hop_length = n_fft / 4;
        }
        if let Some(hop) = self.hop_length {
            config.hop_length = hop;
        }
        if let Some(n_mels) = self.n_mels {
            config.n_mels = n_mels;
        }
        if let Some(fmin) = self.fmin {
            config.fmin = fmin;
        }
        config.fmax = self.fmax.or(config.fmax);
        config.db = self.db;
        config
    }
}

/// Runs `lungsound features`.
pub fn run(args: FeaturesArgs) -> anyhow::Result<Outcome> {
    let config = args.config();
    let Some(destination) = args.out.as_ref().or(args.png.as_ref()) else {
        bail!("nothing to write: give --out FILE.npy, --png FILE.png, or both");
    };
    if args.input.is_dir() {
        run_dir(&args, &config)
    } else {
        let (spectrogram, rate) = compute_file(&args.input, &config, args.sample_rate)?;
        write_outputs(
            &spectrogram,
            &args.input,
            args.out.as_deref(),
            args.png.as_deref(),
            &args,
            &config,
            rate,
        )?;
        println!(
            "{}: {} spectrogram [{}, {}] at {rate} Hz -> {}",
            args.input.display(),
            config.kind,
            spectrogram.nrows(),
            spectrogram.ncols(),
            destination.display()
        );
        Ok(Outcome::clean())
    }
}

fn run_dir(args: &FeaturesArgs, config: &FeatureConfig) -> anyhow::Result<Outcome> {
    let files = audio_files(&args.input)?;
    if files.is_empty() {
        bail!("no .wav or .flac files in {}", args.input.display());
    }
    if let Some(out) = &args.out {
        std::fs::create_dir_all(out).with_context(|| format!("cannot create {}", out.display()))?;
    }
    if let Some(png_dir) = &args.png {
        std::fs::create_dir_all(png_dir)
            .with_context(|| format!("cannot create {}", png_dir.display()))?;
    }
    let bar = progress::bar(files.len() as u64, "features");
    // One extractor per sample rate would be shared by all threads; files of
    // one dataset nearly always share a rate, so the cache stays tiny.
    let extractors = std::sync::Mutex::new(Vec::<(u32, std::sync::Arc<FeatureExtractor>)>::new());
    let failures: Vec<String> = files
        .par_iter()
        .filter_map(|file| {
            // One file's panic (a bug) becomes that file's error; the batch goes on.
            let result = progress::isolate(file, || -> anyhow::Result<()> {
                let audio = load(file, args.sample_rate)?;
                let extractor = extractor_for(&extractors, config, audio.sample_rate)?;
                let spectrogram = extractor.compute(&audio.samples);
                let stem = file.file_stem().unwrap_or_default().to_string_lossy();
                let npy = args.out.as_ref().map(|dir| dir.join(format!("{stem}.npy")));
                let png = args.png.as_ref().map(|dir| dir.join(format!("{stem}.png")));
                write_outputs(
                    &spectrogram,
                    file,
                    npy.as_deref(),
                    png.as_deref(),
                    args,
                    config,
                    audio.sample_rate,
                )
            });
            bar.inc(1);
            match result {
                Ok(Ok(())) => None,
                Ok(Err(err)) => Some(crate::outcome::error_chain(&err)),
                Err(panic) => Some(panic),
            }
        })
        .collect();
    bar.finish_and_clear();
    for failure in &failures {
        eprintln!("error: {failure}");
    }
    let destination = args
        .out
        .as_ref()
        .or(args.png.as_ref())
        .unwrap_or(&args.input);
    println!(
        "{} of {} recordings -> {} ({} spectrograms)",
        files.len() - failures.len(),
        files.len(),
        destination.display(),
        config.kind
    );
    progress::print_problem_summary(failures.len(), "computing spectrograms");
    Ok(Outcome::with_problems(failures.len()))
}

fn extractor_for(
    cache: &std::sync::Mutex<Vec<(u32, std::sync::Arc<FeatureExtractor>)>>,
    config: &FeatureConfig,
    sample_rate: u32,
) -> anyhow::Result<std::sync::Arc<FeatureExtractor>> {
    let mut cache = cache
        .lock()
        .map_err(|_| anyhow::anyhow!("feature extractor cache poisoned"))?;
    if let Some((_, extractor)) = cache.iter().find(|(rate, _)| *rate == sample_rate) {
        return Ok(extractor.clone());
    }
    let extractor = std::sync::Arc::new(
        FeatureExtractor::new(config, sample_rate)
            .with_context(|| format!("invalid feature parameters at {sample_rate} Hz"))?,
    );
    cache.push((sample_rate, extractor.clone()));
    Ok(extractor)
}

fn load(file: &Path, sample_rate: Option<u32>) -> anyhow::Result<lungsound_audio::Audio> {
    Ok(match sample_rate {
        Some(rate) => lungsound_audio::load_resampled(file, rate)?,
        None => lungsound_audio::load(file)?.0,
    })
}

fn compute_file(
    file: &Path,
    config: &FeatureConfig,
    sample_rate: Option<u32>,
) -> anyhow::Result<(Array2<f32>, u32)> {
    let audio = load(file, sample_rate)?;
    let extractor = FeatureExtractor::new(config, audio.sample_rate)
        .with_context(|| format!("invalid feature parameters for {}", file.display()))?;
    Ok((extractor.compute(&audio.samples), audio.sample_rate))
}

/// Writes the `.npy` and the PNG (figure, or with `--png-raw` the bare array
/// image) of `input`'s spectrogram, each when asked for.
fn write_outputs(
    spectrogram: &Array2<f32>,
    input: &Path,
    npy: Option<&Path>,
    png: Option<&Path>,
    args: &FeaturesArgs,
    config: &FeatureConfig,
    sample_rate: u32,
) -> anyhow::Result<()> {
    if let Some(npy) = npy {
        if let Some(parent) = npy.parent().filter(|p| !p.as_os_str().is_empty()) {
            std::fs::create_dir_all(parent)
                .with_context(|| format!("cannot create {}", parent.display()))?;
        }
        lungsound_features::write_npy(npy, spectrogram)?;
    }
    match png {
        Some(png) if args.png_raw => write_raw_png(spectrogram, png, config, args.colormap),
        Some(png) => {
            let axes = SpectrogramAxes {
                colormap: args.colormap,
                ..SpectrogramAxes::new(config, sample_rate)
            };
            let name = input.file_name().unwrap_or(input.as_os_str());
            let title = format!(
                "{} — {}",
                name.to_string_lossy(),
                axes.settings(spectrogram.nrows())
            );
            write_spectrogram_figure(spectrogram, &axes, &title, png)?;
            Ok(())
        }
        None => Ok(()),
    }
}

/// The one-pixel-per-bin image (`--png-raw`), on a dB scale unless log-compressed.
fn write_raw_png(
    spectrogram: &Array2<f32>,
    png: &Path,
    config: &FeatureConfig,
    colormap: Colormap,
) -> anyhow::Result<()> {
    let visible = match (config.db, config.kind) {
        (true, _) | (false, FeatureKind::LogStft) => spectrogram.clone(),
        (false, FeatureKind::Mel) => {
            lungsound_features::power_to_db(spectrogram, DbRef::Max, 1e-10, Some(80.0))?
        }
        (false, FeatureKind::Stft) => {
            lungsound_features::amplitude_to_db(spectrogram, DbRef::Max, 1e-5, Some(80.0))?
        }
    };
    lungsound_features::write_png(png, &visible, colormap)?;
    Ok(())
}

/// Every `.wav`/`.flac` below `dir`, sorted, so runs are reproducible.
fn audio_files(dir: &Path) -> anyhow::Result<Vec<PathBuf>> {
    let mut files = Vec::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(dir) = stack.pop() {
        let entries =
            std::fs::read_dir(&dir).with_context(|| format!("cannot list {}", dir.display()))?;
        for entry in entries {
            let path = entry
                .with_context(|| format!("cannot list {}", dir.display()))?
                .path();
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
