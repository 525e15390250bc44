//! `lungsound cache [DIR...] [--clear]`: where feature caches are and how big, and clearing
//! them. `train`, `evaluate` and `cv` cache spectrograms (by default in `RUN_DIR/../.cache/features`,
//! `EVAL_DIR/../.cache/features` and `OUT/.cache/features`) and say at the end where and how
//! much.

use std::path::PathBuf;

use lungsound_infer::FeatureCache;

use crate::outcome::Outcome;

/// Arguments of `lungsound cache`.
#[derive(Debug, clap::Args)]
pub struct CacheArgs {
    /// Cache folders [default: runs/.cache/features].
    dirs: Vec<PathBuf>,
    /// Delete the cached spectrograms (`.lsf` files; nothing else is touched).
    #[arg(long)]
    clear: bool,
}

/// Runs `lungsound cache`.
pub fn run(args: CacheArgs) -> anyhow::Result<Outcome> {
    let dirs = if args.dirs.is_empty() {
        vec![PathBuf::from("runs/.cache/features")]
    } else {
        args.dirs
    };
    for dir in dirs {
        let cache = FeatureCache::new(&dir);
        let (files, bytes) = cache.usage();
        if args.clear {
            let (files, bytes) = cache.clear()?;
            println!("{}: removed {files} files ({})", dir.display(), mib(bytes));
        } else {
            println!("{}: {files} files, {}", dir.display(), mib(bytes));
        }
    }
    Ok(Outcome::clean())
}

/// A size in MiB, one decimal (the unit the service and the page use too).
pub fn mib(bytes: u64) -> String {
    format!("{:.1} MiB", bytes as f64 / (1024.0 * 1024.0))
}

/// The closing line of a command that used `cache`: where it is and how big.
pub fn report(cache: &FeatureCache) {
    if let Some(dir) = cache.dir() {
        let (files, bytes) = cache.usage();
        if files > 0 {
            eprintln!(
                "feature cache: {} ({files} files, {}; `lungsound cache {} --clear` removes it)",
                dir.display(),
                mib(bytes),
                dir.display()
            );
        }
    }
}
