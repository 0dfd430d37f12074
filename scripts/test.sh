#!/usr/bin/env bash
# Set up and run the whole test suite: lint, then pytest on SQLite and on PostgreSQL.
#   TRACKER_TEST_PG_URL  PostgreSQL to test against (default: local trust-auth database `test`)
#   CI=true              PostgreSQL and Chromium become mandatory instead of skipped
set -euo pipefail
cd "$(dirname "$0")/.."

PYTHON="${PYTHON:-python3}"
PG_URL="${TRACKER_TEST_PG_URL:-postgresql+psycopg://postgres@127.0.0.1:5432/test}"

[ -x .venv/bin/python ] || "$PYTHON" -m venv .venv
.venv/bin/python -m pip install --quiet --upgrade pip
.venv/bin/python -m pip install --quiet -e '.[test]'

echo "== lint (ruff)"
.venv/bin/ruff check .
.venv/bin/ruff format --check .

echo "== tests on SQLite"
env -u TRACKER_TEST_DATABASE_URL .venv/bin/python -m pytest "$@"

echo "== tests on PostgreSQL"
if .venv/bin/python - "$PG_URL" <<'PY'
import sys
import sqlalchemy as sa
try:
    with sa.create_engine(sys.argv[1]).connect() as conn:
        conn.execute(sa.text("select 1"))
except Exception as exc:  # noqa: BLE001 - report any connection failure
    print(f"PostgreSQL unreachable: {exc}", file=sys.stderr)
    sys.exit(1)
PY
then
  TRACKER_TEST_DATABASE_URL="$PG_URL" .venv/bin/python -m pytest "$@"
elif [ "${CI:-}" = "true" ]; then
  echo "CI: PostgreSQL must be reachable at $PG_URL" >&2
  exit 1
else
  echo "PostgreSQL not reachable: skipped the PostgreSQL run (CI makes this an error)." >&2
fi
