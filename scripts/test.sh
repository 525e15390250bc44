#!/usr/bin/env bash
# Runs the whole test suite: installs libtorch (scripts/setup-libtorch.sh,
# quick when already there), checks formatting and lints, then `cargo test --workspace`.
# Tests that need ../shared/data skip with a message when it is absent.
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"
bash scripts/setup-libtorch.sh
cargo fmt --all -- --check
cargo clippy --workspace --all-targets --locked -- -D warnings
python3 scripts/module_cycles.py crates/infer crates/train   # no import circles between files
cargo test --workspace --locked "$@"
bash scripts/test-python.sh   # the Python package: wheel + pytest (crates/python/tests)
