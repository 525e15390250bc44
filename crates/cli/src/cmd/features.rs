//! `lungsound features INPUT --kind mel|stft|logstft [--out FILE.npy] [--png FILE.png]`:
//! spectrograms as float32 `.npy` (`[n_freq, n_frames]`) and/or PNG figures
//! (time and frequency axes, dB colour bar, title; `--png-raw` for the bare
//! one-pixel-per-bin image used as model input).
//!
//! Defaults are librosa 0.11's (see `lungsound_features::FeatureConfig`), at
//! the file's own sample rate unless `--sample-rate` is given. A directory
//! INPUT is processed in parallel, one `.npy` (and PNG) per recording. The
//! work is `lungsound_features::export`'s; this command parses and prints.

use std::path::PathBuf;
use std::sync::OnceLock;

use anyhow::bail;
use lungsound_features::export::{self, FolderOptions, PngOptions, PngStyle};
use lungsound_features::{Colormap, FeatureConfig, FeatureKind, PcenParams};
use lungsound_report::SpectrogramFigures;

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
    /// Per-channel energy normalisation instead of dB (mel only): librosa.pcen with its
    /// defaults on the mel magnitude scaled by 2^31, as librosa's documentation does.
    #[arg(long, conflicts_with = "db")]
    pcen: bool,
    /// Output `.npy` file, or a folder when INPUT is a folder. Optional when
    /// `--png` is given.
    #[arg(long)]
    out: Option<PathBuf>,
    /// Write a PNG figure (a folder of them when INPUT is a folder): time in
    /// seconds, frequency in Hz (mel-spaced for mel), a colour bar in dB relative
    /// to the maximum and a title with the file and settings. Non-dB
    /// spectrograms are drawn on a dB scale (top 80 dB), PCEN as it is.
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
        config.pcen = self.pcen.then(PcenParams::default);
        config
    }

    fn png_options(&self) -> PngOptions<'static> {
        PngOptions {
            style: if self.png_raw {
                PngStyle::Raw
            } else {
                PngStyle::Figure(&SpectrogramFigures)
            },
            colormap: self.colormap,
        }
    }
}

/// Runs `lungsound features`.
pub fn run(args: FeaturesArgs) -> anyhow::Result<Outcome> {
    let config = args.config();
    let Some(destination) = args.out.as_ref().or(args.png.as_ref()) else {
        bail!("nothing to write: give --out FILE.npy, --png FILE.png, or both");
    };
    if args.input.is_dir() {
        run_dir(&args, config)
    } else {
        let (spectrogram, rate) = export::compute_file(&args.input, &config, args.sample_rate)?;
        export::write_outputs(
            &spectrogram,
            &args.input,
            args.out.as_deref(),
            args.png.as_deref(),
            &args.png_options(),
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

fn run_dir(args: &FeaturesArgs, config: FeatureConfig) -> anyhow::Result<Outcome> {
    let kind = config.kind;
    let options = FolderOptions {
        config,
        sample_rate: args.sample_rate,
        out_dir: args.out.clone(),
        png_dir: args.png.clone(),
        png: args.png_options(),
    };
    // The bar appears once the files are listed and the output folders exist.
    let bar = OnceLock::new();
    let result = export::compute_folder(&args.input, &options, &|done, total| {
        let bar = bar.get_or_init(|| progress::bar(total as u64, "features"));
        if done > 0 {
            bar.inc(1);
        }
    });
    if let Some(bar) = bar.get() {
        bar.finish_and_clear();
    }
    let report = result?;
    let n_failed = report.failures.len();
    for (_, failure) in report.failures {
        eprintln!("error: {}", crate::outcome::error_chain(&failure.into()));
    }
    let destination = args
        .out
        .as_ref()
        .or(args.png.as_ref())
        .unwrap_or(&args.input);
    println!(
        "{} of {} recordings -> {} ({} spectrograms)",
        report.n_files - n_failed,
        report.n_files,
        destination.display(),
        kind
    );
    progress::print_problem_summary(n_failed, "computing spectrograms");
    Ok(Outcome::with_problems(n_failed))
}
