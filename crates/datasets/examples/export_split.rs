//! Writes the patient-wise train/validation split the training crate uses, as CSV,
//! so that baselines outside Rust (scripts/baselines/) score on exactly the same
//! validation patients.
//!
//! ```text
//! cargo run -p lungsound-datasets --release --example export_split -- DIR \
//!     [--val-fraction 0.2] [--seed 2022] [--out FILE]
//! ```
//!
//! Mirrors `lungsound_infer::run_split`: load the folder (auto-detected),
//! keep the recordings with audio in `dataset.recordings` order (ICBHI: only the
//! official `train` part), call [`patient_split`] with the fraction and seed, and
//! write `record,patient,split` (`train`/`val`) to stdout or `--out`. Defaults are
//! the training config's (`DEFAULT_VAL_FRACTION`, `DEFAULT_SPLIT_SEED`).

use std::io::Write;
use std::path::PathBuf;

use lungsound_datasets::{
    DEFAULT_SPLIT_SEED, DEFAULT_VAL_FRACTION, DatasetKind, Recording, Split, load_dataset,
    patient_split,
};

type BoxError = Box<dyn std::error::Error + Send + Sync>;

struct Args {
    dir: PathBuf,
    val_fraction: f64,
    seed: u64,
    out: Option<PathBuf>,
}

fn parse_args() -> Result<Args, BoxError> {
    let mut dir = None;
    let mut val_fraction = DEFAULT_VAL_FRACTION;
    let mut seed = DEFAULT_SPLIT_SEED;
    let mut out = None;
    let mut it = std::env::args().skip(1);
    while let Some(a) = it.next() {
        let mut value = |name: &str| it.next().ok_or_else(|| format!("{name} needs a value"));
        match a.as_str() {
            "--val-fraction" => val_fraction = value("--val-fraction")?.parse()?,
            "--seed" => seed = value("--seed")?.parse()?,
            "--out" => out = Some(PathBuf::from(value("--out")?)),
            "-h" | "--help" => {
                return Err(
                    "usage: export_split DIR [--val-fraction F] [--seed S] [--out FILE]".into(),
                );
            }
            _ if a.starts_with("--") => return Err(format!("unknown option {a}").into()),
            _ if dir.is_none() => dir = Some(PathBuf::from(a)),
            _ => return Err(format!("unexpected argument {a}").into()),
        }
    }
    let dir = dir.ok_or("missing dataset folder (usage: export_split DIR ...)")?;
    Ok(Args {
        dir,
        val_fraction,
        seed,
        out,
    })
}

fn main() -> Result<(), BoxError> {
    let args = parse_args()?;
    let dataset = load_dataset(&args.dir)?;
    for issue in &dataset.issues {
        eprintln!("{issue}");
    }
    let pool: Vec<Recording> = dataset
        .recordings
        .iter()
        .filter(|r| r.has_audio())
        .filter(|r| match dataset.kind {
            DatasetKind::Icbhi => r.official_split == Some(Split::Train),
            _ => true,
        })
        .cloned()
        .collect();
    let split = patient_split(&pool, args.val_fraction, args.seed);
    let mut side = vec!["train"; pool.len()];
    for &i in &split.val {
        side[i] = "val";
    }

    let mut w = csv::Writer::from_writer(match &args.out {
        Some(p) => Box::new(std::fs::File::create(p)?) as Box<dyn Write>,
        None => Box::new(std::io::stdout().lock()),
    });
    w.write_record(["record", "patient", "split"])?;
    for (r, s) in pool.iter().zip(&side) {
        w.write_record([r.id.as_str(), r.patient.as_str(), s])?;
    }
    w.flush()?;
    let n_patients = |v: &[usize]| {
        let mut p: Vec<&str> = v.iter().map(|&i| pool[i].patient.as_str()).collect();
        p.sort_unstable();
        p.dedup();
        p.len()
    };
    eprintln!(
        "{} recordings: {} train ({} patients) / {} val ({} patients); val_fraction {}, seed {}",
        pool.len(),
        split.train.len(),
        n_patients(&split.train),
        split.val.len(),
        n_patients(&split.val),
        args.val_fraction,
        args.seed
    );
    Ok(())
}
