//! Build script shared by the crates that link libtorch (models, train, serve, cli).
//!
//! It gives their binaries, tests and examples an rpath to `$LIBTORCH/lib` so that
//! `lungsound` runs without `LD_LIBRARY_PATH`. `LIBTORCH` is set by
//! `.cargo/config.toml` to the `.libtorch` link that `scripts/setup-libtorch.sh` makes.

fn main() {
    println!("cargo:rerun-if-env-changed=LIBTORCH");
    match std::env::var("LIBTORCH") {
        Ok(libtorch) => {
            let lib = std::path::Path::new(&libtorch).join("lib");
            println!("cargo:rustc-link-arg=-Wl,-rpath,{}", lib.display());
        }
        Err(_) => println!(
            "cargo:warning=LIBTORCH is not set; run scripts/setup-libtorch.sh (binaries will need LD_LIBRARY_PATH)"
        ),
    }
}
