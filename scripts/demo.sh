#!/usr/bin/env bash
# The main job on the shipped default: set up libtorch (once), build the
# release binary, and classify the sample recordings with the models in
# models/ (the 1-2 model gated by the 1-1 model, as its gate.json says).
# Extra arguments replace the sample files and go to `lungsound predict`
# (e.g. other files, --json, --no-gate).
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"
bash scripts/setup-libtorch.sh
if [[ $# -eq 0 ]]; then
    set -- samples/*.flac
fi
# `cargo run` builds first (minutes the first time) and honours $CARGO_TARGET_DIR.
# Both binaries: `lungsound` hands `predict` to `lungsound-torch` beside it.
cargo build --release --locked --quiet -p lungsound
exec cargo run --release --locked --quiet -p lungsound --bin lungsound -- predict "$@"
