#!/usr/bin/env bash
# Installs the one libtorch lungsound builds against: the libtorch 2.13.0 inside
# the `torch==2.13.0` wheel from PyPI, in a project-local venv (.venv/).
# It then points `.libtorch` at it; `.cargo/config.toml` sets LIBTORCH to that
# link and the tch-using crates give their binaries an rpath to `.libtorch/lib`,
# so `lungsound` runs without LD_LIBRARY_PATH.
#
# Re-running is quick: nothing is downloaded when the pinned torch is present.
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
TORCH_VERSION="2.13.0"
PYTHON="${PYTHON:-python3}"
VENV="$ROOT/.venv"

if [[ ! -x "$VENV/bin/python" ]]; then
    echo "setup: creating $VENV" >&2
    "$PYTHON" -m venv "$VENV"
fi
have="$("$VENV/bin/python" -c 'import importlib.metadata as m; print(m.version("torch"))' 2>/dev/null || true)"
if [[ "$have" != "$TORCH_VERSION"* ]]; then
    echo "setup: installing torch==$TORCH_VERSION into $VENV (one-off, large download)" >&2
    "$VENV/bin/pip" install --quiet --disable-pip-version-check --no-cache-dir "torch==$TORCH_VERSION"
fi
torch_dir="$("$VENV/bin/python" -c 'import os, torch; print(os.path.dirname(torch.__file__))')"
# A relative link, so the checkout can move; `.cargo/config.toml` resolves it.
ln -sfn "$(realpath --relative-to="$ROOT" "$torch_dir")" "$ROOT/.libtorch"
echo "setup: libtorch $TORCH_VERSION at $ROOT/.libtorch -> $torch_dir" >&2
