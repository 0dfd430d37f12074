#!/usr/bin/env bash
# Type-check the tracker package with mypy, configured in setup.cfg ([mypy] and its sections):
# strict on the whole package. Exits non-zero on any error. Expects the venv of scripts/test.sh
# (mypy and the stub packages come with the `test` extra).
set -euo pipefail
cd "$(dirname "$0")/.."

if [ ! -x .venv/bin/mypy ]; then
  echo "no .venv/bin/mypy: install the test extra first (.venv/bin/pip install -e '.[test]')" >&2
  exit 2
fi
exec .venv/bin/mypy --config-file setup.cfg "$@"
