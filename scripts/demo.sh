#!/usr/bin/env bash
# The main job on the shipped default: set up libtorch (once), build the
# release binary, and classify a sample recording with the model in models/.
# Extra arguments go to `lungsound predict` (e.g. other files, --json).
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"
bash scripts/setup-libtorch.sh
if [[ $# -eq 0 ]]; then
    set -- samples/*.flac
fi
# `cargo run` builds first (minutes the first time) and honours $CARGO_TARGET_DIR.
exec cargo run --release --locked --quiet -p lungsound -- predict "$@"
