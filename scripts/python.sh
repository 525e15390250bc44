#!/usr/bin/env bash
# Builds the `lungsound` Python wheel (crates/python: PyO3 + rust-numpy, maturin) into
# target/wheels/, for the project's Python (.venv/bin/python, made by setup-libtorch.sh;
# python3 when there is none; PYTHON_INTERPRETER=... to choose another).
# maturin runs from a tools venv under target/ (LUNGSOUND_PYVENV), so .venv is not touched.
# Install: pip install target/wheels/lungsound-*.whl
# LUNGSOUND_WHEEL_PROFILE=dev builds with the dev profile (reuses `cargo test`'s artifacts; what
# scripts/test-python.sh does), LUNGSOUND_WHEEL_DIR=... writes the wheel elsewhere.
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"
PYVENV="${LUNGSOUND_PYVENV:-$ROOT/target/pyvenv}"
if [[ -z "${PYTHON_INTERPRETER:-}" ]]; then
    if [[ -x "$ROOT/.venv/bin/python" ]]; then PYTHON_INTERPRETER="$ROOT/.venv/bin/python"; else PYTHON_INTERPRETER="$(command -v python3)"; fi
fi
if [[ ! -x "$PYVENV/bin/python" ]]; then
    echo "python.sh: creating $PYVENV" >&2
    python3 -m venv "$PYVENV"
fi
if ! "$PYVENV/bin/python" -c 'import maturin' 2>/dev/null; then
    "$PYVENV/bin/pip" install --quiet --disable-pip-version-check 'maturin>=1.7,<2'
fi
PROFILE="${LUNGSOUND_WHEEL_PROFILE:-release}"
WHEELS="${LUNGSOUND_WHEEL_DIR:-target/wheels}"
rm -f "$WHEELS"/lungsound-*.whl
"$PYVENV/bin/maturin" build --profile "$PROFILE" --locked -m crates/python/Cargo.toml \
    --interpreter "$PYTHON_INTERPRETER" --out "$WHEELS" "$@"
ls "$WHEELS"/lungsound-*.whl
