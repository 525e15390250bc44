#!/usr/bin/env bash
# Tests the `lungsound` Python package: builds the wheel (scripts/python.sh) for a test venv
# (target/pyvenv, or LUNGSOUND_PYVENV) holding pytest, librosa 0.11, soundfile, pandas,
# matplotlib and dask[distributed], installs it there and runs crates/python/tests. Tests needing ../shared/data skip
# when it is absent. The project's .venv is not touched.
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"
PYVENV="${LUNGSOUND_PYVENV:-$ROOT/target/pyvenv}"
export LUNGSOUND_PYVENV="$PYVENV"
if [[ ! -x "$PYVENV/bin/python" ]]; then
    echo "test-python: creating $PYVENV" >&2
    python3 -m venv "$PYVENV"
fi
if ! "$PYVENV/bin/python" -c 'import maturin, pytest, numpy, librosa, soundfile, pandas, matplotlib, dask, distributed' 2>/dev/null; then
    echo "test-python: installing the test packages into $PYVENV" >&2
    "$PYVENV/bin/pip" install --quiet --disable-pip-version-check --no-cache-dir \
        'maturin>=1.7,<2' pytest numpy 'librosa==0.11.0' soundfile pandas matplotlib 'dask[distributed]'
fi
# The package needs torch (its libtorch runs the models): the test venv sees the project's .venv
# (scripts/setup-libtorch.sh installed torch==2.13.0 there) through a .pth file instead of a
# second multi-GB download. Its own packages come first on sys.path.
site="$("$PYVENV/bin/python" -c 'import sysconfig; print(sysconfig.get_paths()["purelib"])')"
torch_site="$("$ROOT/.venv/bin/python" -c 'import sysconfig; print(sysconfig.get_paths()["purelib"])')"
echo "$torch_site" > "$site/lungsound-project-torch.pth"
# The dev profile reuses what `cargo test` built (scripts/test.sh runs it first); its own
# folder, so a release wheel in target/wheels is left alone.
LUNGSOUND_WHEEL_PROFILE="${LUNGSOUND_WHEEL_PROFILE:-dev}" LUNGSOUND_WHEEL_DIR=target/wheels-test \
    PYTHON_INTERPRETER="$PYVENV/bin/python" bash scripts/python.sh
"$PYVENV/bin/pip" install --quiet --disable-pip-version-check --force-reinstall --no-deps target/wheels-test/lungsound-*.whl
# From outside the source tree, so the installed wheel is what gets imported.
cd "$ROOT/crates/python/tests"
"$PYVENV/bin/python" -m pytest -q -p no:cacheprovider "$@" .
