//! The extension links libtorch (through `lungsound-infer`). It uses the libtorch of the
//! `torch` package installed beside it: `site-packages/lungsound/_lungsound*.so` looks in
//! `site-packages/torch/lib` (`$ORIGIN/../torch/lib`), and `import lungsound` imports torch
//! first, so a torch installed elsewhere on `sys.path` is found by its already loaded libraries.

fn main() {
    println!("cargo:rerun-if-changed=build.rs");
    println!("cargo:rustc-link-arg=-Wl,-rpath,$ORIGIN/../torch/lib");
}
