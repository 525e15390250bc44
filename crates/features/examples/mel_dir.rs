//! Mel spectrograms of every WAV/FLAC file in a folder, in parallel, as `.npy`.
//!
//! The library path of `lungsound features DIR --kind mel --out OUTDIR` without
//! the CLI (which links libtorch and pays ~0.17 s to load it), with per-stage
//! timings; used to measure the speed against librosa
//! (`scripts/bench/mel_vs_librosa.py --lungsound-cmd ...`, BENCHMARKS.md).
//!
//! ```text
//! cargo run --release -p lungsound-features --example mel_dir -- DIR OUTDIR [--db] [--threads N]
//! ```
//!
//! Decodes with `lungsound-audio` at the file's own sample rate (librosa's
//! `sr=None`), computes librosa-default mel power spectrograms (dB with `--db`)
//! and writes `OUTDIR/<file stem>.npy`. Prints per-stage CPU time, problems
//! per file, and the wall time.

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use lungsound_features::{FeatureConfig, FeatureExtractor, write_npy};
use rayon::prelude::*;

type BoxError = Box<dyn std::error::Error + Send + Sync>;

fn audio_files(dir: &Path, out: &mut Vec<PathBuf>) -> std::io::Result<()> {
    for entry in std::fs::read_dir(dir)? {
        let path = entry?.path();
        if path.is_dir() {
            audio_files(&path, out)?;
        } else if lungsound_audio::is_audio_path(&path) {
            out.push(path);
        }
    }
    Ok(())
}

#[derive(Default)]
struct Timing {
    decode: Duration,
    features: Duration,
    write: Duration,
    audio_s: f64,
}

fn main() -> Result<(), BoxError> {
    let mut args = std::env::args().skip(1);
    let mut positional = Vec::new();
    let mut db = false;
    let mut threads = None;
    while let Some(arg) = args.next() {
        match arg.as_str() {
            "--db" => db = true,
            "--threads" => {
                threads = Some(
                    args.next()
                        .ok_or("--threads needs a value")?
                        .parse::<usize>()?,
                )
            }
            _ => positional.push(PathBuf::from(arg)),
        }
    }
    let [dir, out_dir] = positional.as_slice() else {
        return Err("usage: mel_dir DIR OUTDIR [--db] [--threads N]".into());
    };
    if let Some(n) = threads {
        rayon::ThreadPoolBuilder::new()
            .num_threads(n)
            .build_global()?;
    }
    let wall = Instant::now();
    std::fs::create_dir_all(out_dir)?;
    let mut files = Vec::new();
    audio_files(dir, &mut files)?;
    files.sort();

    let config = FeatureConfig {
        db,
        ..FeatureConfig::default()
    };
    // One extractor per sample rate met, shared by all threads.
    let extractors: Mutex<HashMap<u32, Arc<FeatureExtractor>>> = Mutex::new(HashMap::new());
    let extractor_for = |sample_rate: u32| -> Result<Arc<FeatureExtractor>, BoxError> {
        let mut map = extractors.lock().map_err(|_| "extractor cache poisoned")?;
        if let Some(ex) = map.get(&sample_rate) {
            return Ok(Arc::clone(ex));
        }
        let ex = Arc::new(FeatureExtractor::new(&config, sample_rate)?);
        map.insert(sample_rate, Arc::clone(&ex));
        Ok(ex)
    };

    let results: Vec<Result<Timing, (PathBuf, BoxError)>> = files
        .par_iter()
        .map(|path| {
            let run = || -> Result<Timing, BoxError> {
                let t0 = Instant::now();
                let (audio, _info) = lungsound_audio::load(path)?;
                let t1 = Instant::now();
                let mel = extractor_for(audio.sample_rate)?.compute(&audio.samples);
                let t2 = Instant::now();
                // Not `with_extension`: SPRSound stems contain dots ("40069321_15.3_0_p1_981").
                let mut name = path
                    .file_stem()
                    .ok_or("file without a name")?
                    .to_os_string();
                name.push(".npy");
                write_npy(&out_dir.join(name), &mel)?;
                Ok(Timing {
                    decode: t1 - t0,
                    features: t2 - t1,
                    write: t2.elapsed(),
                    audio_s: audio.duration_s(),
                })
            };
            run().map_err(|e| (path.clone(), e))
        })
        .collect();

    let mut total = Timing::default();
    let mut n_ok = 0;
    for result in &results {
        match result {
            Ok(t) => {
                n_ok += 1;
                total.decode += t.decode;
                total.features += t.features;
                total.write += t.write;
                total.audio_s += t.audio_s;
            }
            Err((path, e)) => eprintln!("{}: {e}", path.display()),
        }
    }
    println!(
        "{n_ok}/{} files, {:.1} min of audio, {} threads, wall {:.3} s",
        files.len(),
        total.audio_s / 60.0,
        rayon::current_num_threads(),
        wall.elapsed().as_secs_f64()
    );
    println!(
        "cpu time: decode {:.3} s, mel {:.3} s, write {:.3} s",
        total.decode.as_secs_f64(),
        total.features.as_secs_f64(),
        total.write.as_secs_f64()
    );
    if n_ok < files.len() {
        return Err(format!("{} files failed", files.len() - n_ok).into());
    }
    Ok(())
}
